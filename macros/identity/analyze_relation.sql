{# Refresh the optimizer statistics of a table where the engine needs it. #}
{% macro analyze_relation(relation) -%}
    {{ return(adapter.dispatch('analyze_relation', 'cdp')(relation)) }}
{%- endmacro %}

{% macro default__analyze_relation(relation) -%}
{%- endmacro %}

{% macro postgres__analyze_relation(relation) -%}
    {% do run_query('analyze ' ~ relation) %}
{%- endmacro %}
