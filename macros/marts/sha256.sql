{# Hex SHA-256 of a text expression (64 lower-case hex digits). #}
{% macro sha256(expression) -%}
    {{ return(adapter.dispatch('sha256', 'cdp')(expression)) }}
{%- endmacro %}

{% macro default__sha256(expression) -%}
    sha2(cast({{ expression }} as {{ dbt.type_string() }}), 256)
{%- endmacro %}

{% macro duckdb__sha256(expression) -%}
    sha256(cast({{ expression }} as {{ dbt.type_string() }}))
{%- endmacro %}

{% macro postgres__sha256(expression) -%}
    encode(sha256(convert_to(cast({{ expression }} as {{ dbt.type_string() }}), 'UTF8')), 'hex')
{%- endmacro %}
