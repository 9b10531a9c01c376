{#
    A deterministic id for a raw row that has no usable key: the md5 of all its columns,
    suffixed with its position among exact copies (`-1`, `-2`, ...). Copies are
    found by partitioning on the columns themselves: cheaper than hashing three times.
#}
{% macro source_row_id(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append(
            "coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')"
        ) -%}
    {%- endfor -%}
    {%- set row_hash = dbt.hash(parts | join(" || '|' || ")) -%}
    {{ row_hash }} || '-' || cast(
        row_number() over (partition by {{ columns | join(', ') }})
        as {{ dbt.type_string() }}
    )
{%- endmacro %}
