with

tickets as (
    select * from {{ ref('base_service__tickets') }}
    where rejection_reason is null
),

columns_selected as (
    select
        ticket_id,
        member_id,
        phone,
        email,
        ticket_channel,
        ticket_category,
        created_at,
        resolved_at,
        satisfaction_score,
        staged_at
    from tickets
)

select * from columns_selected
