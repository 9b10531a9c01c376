with

transactions as (
    select * from {{ ref('base_pos__transactions') }}
    where rejection_reason is null
),

columns_selected as (
    select
        transaction_id,
        store_id,
        member_card_no,
        phone,
        transacted_at,
        amount,
        discount_amount,
        items_count,
        staged_at
    from transactions
)

select * from columns_selected
