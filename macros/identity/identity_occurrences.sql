{#
    One row per identifier found on a record of `relation`, in one scan: the record is
    crossed with the positions of its identifier columns and null values are dropped.
    identifier_columns: list of [identifier_type, column]. Values are already normalised
    by staging.
#}
{#
-- sqlfluff:exclude_rules:layout.indent
    For sqlfluff (which reads the line above): the SQL of this macro is text to it, so it
    would indent the Jinja tags by Jinja nesting alone, against the SQL's indentation.
#}
{% macro identity_occurrences(
    relation, source_name, key_column, seen_at_column, identifier_columns
) -%}
    select
        '{{ source_name }}' as source_name,
        source_key,
        seen_at,
        identifier_type,
        identifier_value
    from (
        select
            cast(records.{{ key_column }} as {{ dbt.type_string() }}) as source_key,
            {{ seen_at_column }} as seen_at,
            case positions.position
                {%- for identifier_type, column in identifier_columns %}
                when {{ loop.index }} then '{{ identifier_type }}'
                {%- endfor %}
            end as identifier_type,
            case positions.position
                {%- for identifier_type, column in identifier_columns %}
                when {{ loop.index }} then cast(records.{{ column }} as {{ dbt.type_string() }})
                {%- endfor %}
            end as identifier_value
        from {{ relation }} as records
        cross join (
            {%- for _ in identifier_columns %}
            select {{ loop.index }} as position{% if not loop.last %} union all{% endif %}
            {%- endfor %}
        ) as positions
    ) as unpivoted
    where identifier_value is not null
{%- endmacro %}
