{#
    marts.cohort_retention for BI, one row per cohort month and months since the first
    order. No PII; columns are listed so that a column added to the mart is not exposed
    until it is added here.
#}
{{ config(alias='cohort_retention') }}

with

source_rows as (
    select
        cohort_month,
        months_since_first_order,
        cohort_customers,
        active_customers,
        retention_rate,
        revenue
    from {{ ref('cohort_retention') }}
)

select * from source_rows
