{# Cast a text that already matched a numeric pattern to decimal(18, 2). #}
{% macro try_cast_decimal(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}
