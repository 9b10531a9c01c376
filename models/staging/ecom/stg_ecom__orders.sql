with

orders as (
    select * from {{ ref('base_ecom__orders') }}
    where rejection_reason is null
),

columns_selected as (
    select
        order_id,
        member_id,
        buyer_email,
        buyer_phone,
        platform,
        ordered_at,
        order_status,
        total_amount,
        discount_amount,
        total_amount - discount_amount as net_amount,
        currency,
        shipping_city,
        staged_at
    from orders
)

select * from columns_selected
