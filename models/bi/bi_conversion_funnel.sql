{#
    marts.conversion_funnel for BI, one row per month and funnel step. No PII; columns are
    listed so that a column added to the mart is not exposed until it is added here.
#}
{{ config(alias='conversion_funnel') }}

with

source_rows as (
    select
        activity_month,
        step_number,
        step_name,
        customers,
        conversion_from_previous,
        conversion_from_first
    from {{ ref('conversion_funnel') }}
)

select * from source_rows
