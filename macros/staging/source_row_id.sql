{#
    A deterministic id for a raw row that has no usable key: the md5 of all its columns,
    suffixed with its position among exact copies (`-1`, `-2`, ...).
#}
{% macro source_row_id(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") -%}
    {%- endfor -%}
    {%- set row_hash = dbt.hash(parts | join(" || '|' || ")) -%}
    {{ row_hash }} || '-' || cast(row_number() over (partition by {{ row_hash }} order by {{ row_hash }}) as {{ dbt.type_string() }})
{%- endmacro %}
