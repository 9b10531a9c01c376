{#
    The tag catalogue, compiled from var customer_tag_groups: what each tag means and the
    rule that assigns it. Grain: one row per tag group and rule (rule_order within the
    group; in first_match groups the first rule that holds wins).
#}
{%- set rows = [] %}
{%- for group in var('customer_tag_groups') %}
    {%- for tag in group.tags %}
        {%- do rows.append({
            'tag_group': group.group,
            'group_description': group.get('description', ''),
            'group_mode': group.get('mode', 'first_match'),
            'rule_order': loop.index,
            'tag': tag.get('tag'),
            'tag_from': tag.get('tag_from'),
            'rule': tag.rule,
            'value_expression': tag.get('value'),
            'tag_description': tag.get('description', ''),
        }) %}
    {%- endfor %}
{%- endfor %}
{%- set text_columns = [
    'tag_group', 'group_description', 'group_mode', 'tag', 'tag_from', 'rule',
    'value_expression', 'tag_description',
] %}

with

definitions as (
    {%- for row in rows %}
        select
            {%- for column in text_columns %}
                {%- set value = row[column] %}
                {%- if value is none %}
                    cast(null as {{ dbt.type_string() }}) as {{ column }},
                {%- else %}
                    cast('{{ value | string | replace("'", "''") }}' as {{ dbt.type_string() }})
                        as {{ column }},
                {%- endif %}
            {%- endfor %}
            {{ row.rule_order }} as rule_order
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from definitions
