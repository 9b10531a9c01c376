with

members as (
    select * from {{ ref('base_crm__members') }}
    where rejection_reason is null
),

columns_selected as (
    select
        member_id,
        member_card_no,
        full_name,
        email,
        phone,
        gender,
        birth_date,
        city,
        registered_at,
        updated_at,
        staged_at
    from members
)

select * from columns_selected
