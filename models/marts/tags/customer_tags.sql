{#
    Customer tags in a long table. Grain: one row per customer, tag group and tag
    (first_match groups give at most one tag per customer). The tags are configuration:
    var customer_tag_groups in dbt_project.yml, rules on customer_features columns,
    compiled by macros/tags/customer_tag_rules.sql; customer_tag_definitions lists every
    rule. Tags are as of customer_features.as_of_at (var tags_as_of).
#}
{%- set computed_at = cdp.run_started_timestamp() %}

with

customer_features as (
    select * from {{ ref('customer_features') }}
),

tags_computed as (
    {{ cdp.customer_tag_rules(var('customer_tag_groups'), 'customer_features', computed_at) }}
)

select * from tags_computed
