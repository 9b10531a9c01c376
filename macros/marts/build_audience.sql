{#
    An audience from a short list of conditions: one row per customer with the contact
    columns the syncs send (email, phone, first_name, city) and the chosen tag groups.

    tags: {tag_group: [tags]}: the customer holds one of the listed tags in each group.
    traits: SQL conditions on customer_features columns (and dim_customers' email, phone,
        first_name, city, member_id), all of which must hold.
    tag_columns: tag groups added as columns (several tags in one group are listed
        comma-separated, in order; a first_match group holds one tag per customer, which
        is taken as is: ordered aggregates are the costliest step of an audience).
    Consent, complaints and campaign overlap are not applied here: the sync engine
    suppresses per channel at send time, so membership stays a marketing definition.
    Members are matched first (one aggregation over the wanted tags, joined), so tag
    columns are aggregated for the members only.
#}
{#
-- sqlfluff:exclude_rules:layout.indent
    For sqlfluff (which reads the line above): the SQL of this macro is text to it, so it
    would indent the Jinja tags by Jinja nesting alone, against the SQL's indentation.
#}
{% macro build_audience(tags={}, traits=[], tag_columns=[]) -%}
    {%- set groups = (tags.keys() | list) + tag_columns -%}
    {%- set first_match_groups = [] -%}
    {%- for group in var('customer_tag_groups', []) -%}
        {%- if group.get('mode', 'first_match') == 'first_match' -%}
            {%- do first_match_groups.append(group.group) -%}
        {%- endif -%}
    {%- endfor -%}

with

customers as (
    select customer_id, member_id, email, phone, first_name, city
    from {{ ref('dim_customers') }}
),

customer_features as (
    select * from {{ ref('customer_features') }}
),

customer_tags as (
    select customer_id, tag_group, tag
    from {{ ref('customer_tags') }}
    {%- if groups %}
    where tag_group in ('{{ groups | unique | join("', '") }}')
    {%- else %}
    where 1 = 0
    {%- endif %}
),

profiles as (
    select
        customer_features.*,
        customers.member_id,
        customers.email,
        customers.phone,
        customers.first_name,
        customers.city
    from customer_features
    inner join customers on customer_features.customer_id = customers.customer_id
),

tags_matched as (
    {#- customers holding a wanted tag in every listed group: one aggregation, joined #}
    select customer_id
    from customer_tags
    where
        {%- for group, wanted in tags.items() %}
        {{ 'or ' if not loop.first }}(
            tag_group = '{{ group }}' and tag in ('{{ wanted | join("', '") }}')
        )
        {%- else %}
        1 = 0
        {%- endfor %}
    group by customer_id
    having count(distinct tag_group) = {{ tags | length }}
),

members_matched as (
    select profiles.*
    from profiles
    {%- if tags %}
    inner join tags_matched on profiles.customer_id = tags_matched.customer_id
    {%- endif %}
    where 1 = 1
        {%- for trait in traits %}
        and ({{ trait }})
        {%- endfor %}
),

member_tags_pivoted as (
    select
        customer_tags.customer_id
        {%- for group in tag_columns %},
        {%- if group in first_match_groups %}
        {#- at most one tag per customer: that tag, without an ordered aggregate #}
        max(case when customer_tags.tag_group = '{{ group }}' then customer_tags.tag end)
            as {{ group }}
        {%- else %}
        {{ dbt.listagg(
            "case when customer_tags.tag_group = '" ~ group ~ "' then customer_tags.tag end",
            "', '", 'order by customer_tags.tag'
        ) }} as {{ group }}
        {%- endif %}
        {%- endfor %}
    from customer_tags
    inner join members_matched on customer_tags.customer_id = members_matched.customer_id
    group by customer_tags.customer_id
),

members_selected as (
    select
        members_matched.customer_id,
        members_matched.email,
        members_matched.phone,
        members_matched.first_name,
        members_matched.city
        {%- for group in tag_columns %},
        member_tags_pivoted.{{ group }}
        {%- endfor %}
    from members_matched
    left outer join member_tags_pivoted
        on members_matched.customer_id = member_tags_pivoted.customer_id
)

select * from members_selected
{%- endmacro %}
