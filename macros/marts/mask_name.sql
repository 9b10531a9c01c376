{# A name reduced to its initial: `张伟` -> `张.`, `Anna Smith` -> `A.`; null stays null. #}
{% macro mask_name(expression) -%}
    case
        when {{ expression }} is not null then substr({{ expression }}, 1, 1) || '.'
    end
{%- endmacro %}
