{# Whether `relation` holds at least one row (false at parse time). #}
{% macro relation_has_rows(relation) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set result = run_query('select 1 from ' ~ relation ~ ' limit 1') -%}
    {{ return(result.rows | length > 0) }}
{%- endmacro %}
