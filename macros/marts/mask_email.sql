{# `zhang.wei@example.com` -> `z***@example.com`; null and text without `@` stay null. #}
{% macro mask_email(expression) -%}
    case
        when {{ dbt.position("'@'", expression) }} > 1
            then substr({{ expression }}, 1, 1) || '***@'
                || {{ dbt.split_part(expression, "'@'", 2) }}
    end
{%- endmacro %}
