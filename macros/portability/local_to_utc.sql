{# Interpret a naive timestamp as wall-clock time in `time_zone` and return it as naive UTC. #}
{% macro local_to_utc(expression, time_zone) -%}
    {{ return(adapter.dispatch('local_to_utc', 'cdp')(expression, time_zone)) }}
{%- endmacro %}

{% macro default__local_to_utc(expression, time_zone) -%}
    {%- if time_zone | upper == 'UTC' -%}
        {{ expression }}
    {%- else -%}
        cast(
            (({{ expression }}) at time zone '{{ time_zone }}') at time zone 'UTC'
            as {{ dbt.type_timestamp() }}
        )
    {%- endif -%}
{%- endmacro %}

{% macro spark__local_to_utc(expression, time_zone) -%}
    {%- if time_zone | upper == 'UTC' -%}
        {{ expression }}
    {%- else -%}
        to_utc_timestamp({{ expression }}, '{{ time_zone }}')
    {%- endif -%}
{%- endmacro %}
