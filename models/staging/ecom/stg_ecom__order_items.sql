with

order_items as (
    select * from {{ ref('base_ecom__order_items') }}
    where rejection_reason is null
),

columns_selected as (
    select
        order_item_id,
        order_id,
        line_number,
        sku,
        product_name,
        category,
        quantity,
        unit_price,
        quantity * unit_price as line_amount
    from order_items
)

select * from columns_selected
