{#
    marts.customer_tags for BI, one row per customer, tag group and tag. No PII; columns are
    listed so that a column added to the mart is not exposed until it is added here.
#}
{{ config(alias='customer_tags') }}

with

source_rows as (
    select
        customer_id,
        tag_group,
        tag,
        tag_value,
        computed_at
    from {{ ref('customer_tags') }}
)

select * from source_rows
