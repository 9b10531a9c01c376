{# The tag name expression of one tag definition: a quoted literal, or its tag_from column. #}
{% macro customer_tag_name(tag) -%}
    {%- if tag.get('tag_from') -%}
        cast({{ tag.tag_from }} as {{ dbt.type_string() }})
    {%- else -%}
        '{{ tag.tag }}'
    {%- endif -%}
{%- endmacro %}
