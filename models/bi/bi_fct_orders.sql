{# fct_orders for BI (one row per order): no PII, so every column is exposed. #}
{{ config(alias='fct_orders') }}

with

source_rows as (
    select * from {{ ref('fct_orders') }}
)

select * from source_rows
