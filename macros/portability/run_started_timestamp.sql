{#
    The start of this dbt invocation (run_started_at, UTC, to the second) as a SQL timestamp
    literal: the one stamp every row a run writes carries (processed_at, staged_at, ...).
#}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
