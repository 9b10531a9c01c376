{#
    Cast a text in `YYYY-MM-DD[ HH:MM[:SS[.f]]]` form to a timestamp, or null when the value
    is impossible (2023-02-30, 25:00). PostgreSQL has no try_cast, so it calls the helper
    function that `create_try_cast_functions` installs at run start.
#}
{% macro try_cast_timestamp(expression) -%}
    {{ return(adapter.dispatch('try_cast_timestamp', 'cdp')(expression)) }}
{%- endmacro %}

{% macro default__try_cast_timestamp(expression) -%}
    try_cast({{ expression }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro postgres__try_cast_timestamp(expression) -%}
    {{ target.schema }}.cdp_try_cast_timestamp({{ expression }})
{%- endmacro %}
