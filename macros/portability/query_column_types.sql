{#
    The column types of a select, exactly as a table built from it would have them,
    as {column name: SQL type}; empty where the engine keeps a column's type through a
    CASE anyway (DuckDB, Spark: the default).

    PostgreSQL drops a type modifier (numeric(18, 2) -> numeric, varchar(12) -> varchar)
    from `case when ... then column end`, so a model that nulls some values this way
    (erase_forgotten_rows) would change its column types between builds, and the table
    materialization would then drop the views on it. A temporary view of the query
    (planned, not run) gives the types with their modifiers.
#}
{% macro query_column_types(select_sql) -%}
    {{ return(adapter.dispatch('query_column_types', 'cdp')(select_sql)) }}
{%- endmacro %}

{% macro default__query_column_types(select_sql) -%}
    {{ return({}) }}
{%- endmacro %}

{% macro postgres__query_column_types(select_sql) -%}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set view_name = 'cdp_query_shape_' ~ (model.name if model is defined else 'query') -%}
    {% do run_query('create or replace temporary view ' ~ view_name ~ ' as ' ~ select_sql) %}
    {%- set rows = run_query(
        'select attribute.attname, format_type(attribute.atttypid, attribute.atttypmod)'
        ~ ' from pg_catalog.pg_attribute as attribute'
        ~ " where attribute.attrelid = 'pg_temp." ~ view_name ~ "'::regclass"
        ~ ' and attribute.attnum > 0 and not attribute.attisdropped'
        ~ ' order by attribute.attnum').rows -%}
    {% do run_query('drop view pg_temp.' ~ view_name) %}
    {%- set types = {} -%}
    {%- for row in rows -%}
        {%- do types.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}
