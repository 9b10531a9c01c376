{# daily_active_customers for BI (one row per activity date and channel): no PII, so every column is exposed. #}
{{ config(alias='daily_active_customers') }}

with

source_rows as (
    select * from {{ ref('daily_active_customers') }}
)

select * from source_rows
