{#
    Compiles the declarative tag groups (var customer_tag_groups) into one select over
    `relation` (customer_features): one row per customer, group and tag. A first_match
    group is one case expression (one pass, at most one tag per customer); a mode `all`
    group is one select per tag. Rules and values are SQL on the relation's columns.
    Fails at compile time on an unknown mode or a tag without a name, rule or tag_from.
#}
{#
-- sqlfluff:exclude_rules:layout.indent
    For sqlfluff (which reads the line above): the SQL of this macro is text to it, so it
    would indent the Jinja tags by Jinja nesting alone, against the SQL's indentation.
#}
{% macro customer_tag_rules(groups, relation, computed_at) -%}
    {%- set selects = [] -%}
    {%- for group in groups -%}
        {%- set mode = group.get('mode', 'first_match') -%}
        {%- if mode not in ['first_match', 'all'] -%}
            {{ exceptions.raise_compiler_error(
                "var customer_tag_groups: group " ~ group.group
                ~ ": mode must be first_match or all, got " ~ mode) }}
        {%- endif -%}
        {%- for tag in group.tags -%}
            {%- if not tag.get('rule') or not (tag.get('tag') or tag.get('tag_from')) -%}
                {{ exceptions.raise_compiler_error(
                    "var customer_tag_groups: group " ~ group.group ~ ", tag #" ~ loop.index
                    ~ ": needs `rule` and `tag` (or `tag_from`)") }}
            {%- endif -%}
        {%- endfor -%}
        {%- if mode == 'first_match' -%}
            {%- set select -%}
    select
        customer_id,
        '{{ group.group }}' as tag_group,
        case
            {%- for tag in group.tags %}
            when {{ tag.rule }} then {{ cdp.customer_tag_name(tag) }}
            {%- endfor %}
        end as tag,
        case
            {%- for tag in group.tags %}
            when {{ tag.rule }} then {{ cdp.customer_tag_value(tag) }}
            {%- endfor %}
        end as tag_value
    from {{ relation }}
            {%- endset -%}
            {%- do selects.append(select) -%}
        {%- else -%}
            {%- for tag in group.tags -%}
                {%- set select -%}
    select
        customer_id,
        '{{ group.group }}' as tag_group,
        {{ cdp.customer_tag_name(tag) }} as tag,
        {{ cdp.customer_tag_value(tag) }} as tag_value
    from {{ relation }}
    where {{ tag.rule }}
                {%- endset -%}
                {%- do selects.append(select) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor %}
    select
        customer_id,
        tag_group,
        tag,
        tag_value,
        {{ computed_at }} as computed_at
    from (
    {{ selects | join('\n    union all\n') }}
    ) as tags_unioned
    where tag is not null
{%- endmacro %}
