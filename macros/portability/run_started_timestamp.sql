{#
    The start of this dbt invocation (run_started_at, UTC, to the microsecond) as a SQL
    timestamp literal: the one stamp every row a run writes carries (processed_at,
    staged_at, ...). Microseconds, so two invocations never share a stamp: `staged_at >
    processed_at` tells rows staged after a model's last run from those it already read.
#}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
