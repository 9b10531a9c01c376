{#
    True when a parsed UTC timestamp is plausible for an event: not before
    var earliest_valid_timestamp and not more than a day in the future.
#}
{% macro is_timestamp_in_range(expression) -%}
    {%- set earliest = var("earliest_valid_timestamp", "1990-01-01") -%}
    ({{ expression }} >= cast('{{ earliest }}' as {{ dbt.type_timestamp() }})
        and {{ expression }} <= {{ dbt.dateadd('day', 1, dbt.current_timestamp()) }})
{%- endmacro %}
