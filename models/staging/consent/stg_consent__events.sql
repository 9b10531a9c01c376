with

consent_events as (
    select * from {{ ref('base_consent__events') }}
    where rejection_reason is null
),

columns_selected as (
    select
        consent_event_id,
        identifier_type,
        identifier_value,
        consent_channel,
        purpose,
        consent_status,
        occurred_at,
        consent_source
    from consent_events
)

select * from columns_selected
