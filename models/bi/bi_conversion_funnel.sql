{# conversion_funnel for BI (one row per month and funnel step): no PII, so every column is exposed. #}
{{ config(alias='conversion_funnel') }}

with

source_rows as (
    select * from {{ ref('conversion_funnel') }}
)

select * from source_rows
