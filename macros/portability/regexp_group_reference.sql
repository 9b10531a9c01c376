{# How a regexp_replace replacement text refers to capture group `group`. #}
{% macro regexp_group_reference(group) -%}
    {{ return(adapter.dispatch('regexp_group_reference', 'cdp')(group)) }}
{%- endmacro %}

{% macro default__regexp_group_reference(group) -%}
    {{ return('\\' ~ group) }}
{%- endmacro %}

{# Java regex replacement syntax. #}
{% macro spark__regexp_group_reference(group) -%}
    {{ return('$' ~ group) }}
{%- endmacro %}
