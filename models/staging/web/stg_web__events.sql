with

events as (
    select * from {{ ref('base_web__events') }}
    where rejection_reason is null
),

columns_selected as (
    select
        event_id,
        anonymous_id,
        member_id,
        event_name,
        page_url,
        utm_source,
        occurred_at,
        properties,
        staged_at
    from events
)

select * from columns_selected
