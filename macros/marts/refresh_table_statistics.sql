{#
    Post-hook: refresh the planner statistics of the table just built. PostgreSQL plans
    the next model's joins on them, and a table dbt has just created has none until
    autovacuum gets to it (merge joins over a million rows instead of hash joins). No-op
    for views and on engines that gather statistics themselves (DuckDB).
#}
{% macro refresh_table_statistics() -%}
    {{ return(adapter.dispatch('refresh_table_statistics', 'cdp')()) }}
{%- endmacro %}

{% macro default__refresh_table_statistics() -%}
{%- endmacro %}

{% macro postgres__refresh_table_statistics() -%}
    {%- if config.get('materialized') in ['table', 'incremental', 'snapshot'] -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
