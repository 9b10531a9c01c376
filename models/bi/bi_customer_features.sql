{# customer_features for BI (one row per customer): no PII, so every column is exposed. #}
{{ config(alias='customer_features') }}

with

source_rows as (
    select * from {{ ref('customer_features') }}
)

select * from source_rows
