{#
    marts.fct_events for BI, one row per event. No PII; columns are listed so that a column
    added to the mart is not exposed until it is added here.
#}
{{ config(alias='fct_events') }}

with

source_rows as (
    select
        event_id,
        customer_id,
        event_type,
        channel,
        source_name,
        source_key,
        occurred_at,
        event_date,
        revenue,
        event_context,
        processed_at
    from {{ ref('fct_events') }}
)

select * from source_rows
