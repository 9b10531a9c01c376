{# Capture group `group` of the first match of `pattern` in `expression`; null when no match. #}
{% macro regexp_extract(expression, pattern, group=1) -%}
    {{ return(adapter.dispatch('regexp_extract', 'cdp')(expression, pattern, group)) }}
{%- endmacro %}

{% macro default__regexp_extract(expression, pattern, group) -%}
    nullif(regexp_substr({{ expression }}, {{ pattern }}, 1, 1, 'e', {{ group }}), '')
{%- endmacro %}

{% macro duckdb__regexp_extract(expression, pattern, group) -%}
    nullif(regexp_extract({{ expression }}, {{ pattern }}, {{ group }}), '')
{%- endmacro %}

{% macro spark__regexp_extract(expression, pattern, group) -%}
    {{ return(cdp.duckdb__regexp_extract(expression, pattern, group)) }}
{%- endmacro %}

{% macro postgres__regexp_extract(expression, pattern, group) -%}
    nullif((regexp_match({{ expression }}, {{ pattern }}))[{{ group }}], '')
{%- endmacro %}
