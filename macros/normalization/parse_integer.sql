{# A whole number written as text (an optional `.0` tolerated); null otherwise. #}
{% macro parse_integer(expression) -%}
    {%- set stripped = cdp.clean_text(expression) -%}
    case
        when {{ cdp.regexp_matches(stripped, "'^-?[0-9]{1,9}([.]0+)?$'") }}
            then cast(cast({{ stripped }} as decimal(18, 2)) as integer)
    end
{%- endmacro %}
