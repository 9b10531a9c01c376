{# A whole number written as text (an optional `.0` tolerated); null otherwise. #}
{% macro parse_integer(expression) -%}
    {%- set stripped = cdp.clean_text(expression) -%}
    {%- set digits = cdp.regexp_extract(stripped, "'^(-?[0-9]{1,9}([.]0+)?)$'", 1) %}
    cast(cast({{ digits }} as decimal(18, 2)) as integer)
{%- endmacro %}
