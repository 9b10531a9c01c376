{#
    marts.daily_active_customers for BI, one row per activity date and channel. No PII;
    columns are listed so that a column added to the mart is not exposed until it is added
    here.
#}
{{ config(alias='daily_active_customers') }}

with

source_rows as (
    select
        activity_date,
        channel,
        active_customers,
        events_count,
        revenue
    from {{ ref('daily_active_customers') }}
)

select * from source_rows
