{#
    `materialized` where the engine takes it in `with name as materialized (...)`: makes
    DuckDB and PostgreSQL compute the CTE once instead of inlining it (and pushing filters
    into it) where that multiplies an expensive expression. Empty elsewhere.
#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'cdp')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
{%- endmacro %}

{% macro duckdb__materialized_cte() -%}
    materialized
{%- endmacro %}

{% macro postgres__materialized_cte() -%}
    materialized
{%- endmacro %}
