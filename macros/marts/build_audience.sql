{#
    An audience from a short list of conditions: one row per customer with the contact
    columns the syncs send (email, phone, first_name, city) and the chosen tag groups.

    tags: {tag_group: [tags]}: the customer holds one of the listed tags in each group.
    traits: SQL conditions on customer_features columns (and dim_customers' email, phone,
        first_name, city, member_id), all of which must hold.
    tag_columns: tag groups added as columns (several tags in one group are listed
        comma-separated, in order).
    Consent, complaints and campaign overlap are not applied here: the sync engine
    suppresses per channel at send time, so membership stays a marketing definition.
#}
{% macro build_audience(tags={}, traits=[], tag_columns=[]) -%}
    {%- set groups = (tags.keys() | list) + tag_columns -%}

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

tags_pivoted as (
    select
        customer_id
        {%- for group, wanted in tags.items() %},
        max(
            case
                when tag_group = '{{ group }}' and tag in ('{{ wanted | join("', '") }}')
                    then 1
                else 0
            end
        ) as matches_{{ loop.index }}
        {%- endfor %}
        {%- for group in tag_columns %},
        {{ dbt.listagg(
            "case when tag_group = '" ~ group ~ "' then tag end", "', '", 'order by tag'
        ) }} as {{ group }}
        {%- endfor %}
    from customer_tags
    group by customer_id
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

members_selected as (
    select
        profiles.customer_id,
        profiles.email,
        profiles.phone,
        profiles.first_name,
        profiles.city
        {%- for group in tag_columns %},
        tags_pivoted.{{ group }}
        {%- endfor %}
    from profiles
    left join tags_pivoted on profiles.customer_id = tags_pivoted.customer_id
    where 1 = 1
        {%- for group in tags %}
        and tags_pivoted.matches_{{ loop.index }} = 1
        {%- endfor %}
        {%- for trait in traits %}
        and ({{ trait }})
        {%- endfor %}
)

select * from members_selected
{%- endmacro %}
