{# The tag_value expression of one tag definition, as text; null when it has no `value`. #}
{% macro customer_tag_value(tag) -%}
    {%- if tag.get('value') -%}
        cast({{ tag.value }} as {{ dbt.type_string() }})
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
