{# customer_consent for BI (one row per customer, channel and purpose): no PII, so every column is exposed. #}
{{ config(alias='customer_consent') }}

with

source_rows as (
    select * from {{ ref('customer_consent') }}
)

select * from source_rows
