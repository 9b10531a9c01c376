{#
    Aggregate: the bitwise OR of an integer expression over the group (null when every
    value is null). DuckDB, PostgreSQL and Spark spell it bit_or; an engine that does not
    (Snowflake: bitor_agg) adds a <adapter>__bit_or_agg variant.
#}
{% macro bit_or_agg(expression) -%}
    {{ return(adapter.dispatch('bit_or_agg', 'cdp')(expression)) }}
{%- endmacro %}

{% macro default__bit_or_agg(expression) -%}
    bit_or({{ expression }})
{%- endmacro %}
