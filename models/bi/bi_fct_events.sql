{# fct_events for BI (one row per event): no PII, so every column is exposed. #}
{{ config(alias='fct_events') }}

with

source_rows as (
    select * from {{ ref('fct_events') }}
)

select * from source_rows
