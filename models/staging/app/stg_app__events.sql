with

events as (
    select * from {{ ref('base_app__events') }}
    where rejection_reason is null
),

columns_selected as (
    select
        event_id,
        device_id,
        member_id,
        app_platform,
        app_version,
        event_name,
        occurred_at,
        properties,
        staged_at
    from events
)

select * from columns_selected
