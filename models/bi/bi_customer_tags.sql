{# customer_tags for BI (one row per customer, tag group and tag): no PII, so every column is exposed. #}
{{ config(alias='customer_tags') }}

with

source_rows as (
    select * from {{ ref('customer_tags') }}
)

select * from source_rows
