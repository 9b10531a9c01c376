{#
    One row per identifier found on a record of `relation`, in one scan: the record is
    crossed with the positions of its identifier columns and null values are dropped.
    identifier_columns: list of [identifier_type, column]. Values are already normalised
    by staging. staged_since (SQL of a timestamp): only the records staged after it
    (staged_at), each also as one marker row without an identifier (identifier_type null),
    so an incremental delete+insert by record replaces a record that lost its identifiers.
#}
{#
-- sqlfluff:exclude_rules:layout.indent
    For sqlfluff (which reads the line above): the SQL of this macro is text to it, so it
    would indent the Jinja tags by Jinja nesting alone, against the SQL's indentation.
#}
{% macro identity_occurrences(
    relation, source_name, key_column, seen_at_column, identifier_columns, staged_since=none
) -%}
    select
        '{{ source_name }}' as source_name,
        source_key,
        seen_at,
        identifier_type,
        identifier_value,
        staged_at
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
            end as identifier_value,
            records.staged_at
        from {{ relation }} as records
        cross join (
            {%- if staged_since is not none %}
            select 0 as position union all
            {%- endif %}
            {%- for _ in identifier_columns %}
            select {{ loop.index }} as position{% if not loop.last %} union all{% endif %}
            {%- endfor %}
        ) as positions
        {%- if staged_since is not none %}
        where records.staged_at > {{ staged_since }}
        {%- endif %}
    ) as unpivoted
    where identifier_value is not null
    {%- if staged_since is not none %}
        or identifier_type is null
    {%- endif %}
{%- endmacro %}
