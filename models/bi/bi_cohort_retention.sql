{# cohort_retention for BI (one row per cohort month and months since first order): no PII, so every column is exposed. #}
{{ config(alias='cohort_retention') }}

with

source_rows as (
    select * from {{ ref('cohort_retention') }}
)

select * from source_rows
