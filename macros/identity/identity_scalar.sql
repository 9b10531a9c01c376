{# The single value returned by `sql` (a count, a max). #}
{% macro identity_scalar(sql) -%}
    {%- set result = run_query(sql) -%}
    {{ return(result.columns[0].values()[0]) }}
{%- endmacro %}
