{#
    The bitwise AND of two integer expressions. DuckDB, PostgreSQL and Spark take `&`; an
    engine that does not (Snowflake: bitand) adds a <adapter>__bitwise_and variant.
#}
{% macro bitwise_and(left, right) -%}
    {{ return(adapter.dispatch('bitwise_and', 'cdp')(left, right)) }}
{%- endmacro %}

{% macro default__bitwise_and(left, right) -%}
    ({{ left }} & {{ right }})
{%- endmacro %}
