{#
    Run at the start of every dbt invocation (on-run-start). Installs the helper functions
    that engines without `try_cast` need; a no-op elsewhere.
#}
{% macro create_try_cast_functions() -%}
    {{ return(adapter.dispatch('create_try_cast_functions', 'cdp')()) }}
{%- endmacro %}

{% macro default__create_try_cast_functions() -%}
    select 1
{%- endmacro %}

{% macro postgres__create_try_cast_functions() -%}
    create schema if not exists {{ target.schema }};
    create or replace function {{ target.schema }}.cdp_try_cast_timestamp(value text)
    returns timestamp language plpgsql immutable as $$
    begin
        return value::timestamp;
    exception when others then
        return null;
    end;
    $$;
    create or replace function {{ target.schema }}.cdp_try_cast_timestamptz(value text)
    returns timestamptz language plpgsql stable as $$
    begin
        return value::timestamptz;
    exception when others then
        return null;
    end;
    $$;
{%- endmacro %}
