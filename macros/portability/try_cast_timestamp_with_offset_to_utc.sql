{#
    Cast a text timestamp that ends in an offset (Z, +08, +0800, +08:00) to naive UTC, or
    null when impossible. PostgreSQL calls the helper that create_try_cast_functions installs.
#}
{% macro try_cast_timestamp_with_offset_to_utc(expression) -%}
    {{ return(adapter.dispatch('try_cast_timestamp_with_offset_to_utc', 'cdp')(expression)) }}
{%- endmacro %}

{% macro default__try_cast_timestamp_with_offset_to_utc(expression) -%}
    cast(try_cast({{ expression }} as {{ dbt.type_timestamp() }} with time zone) at time zone 'UTC'
        as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__try_cast_timestamp_with_offset_to_utc(expression) -%}
    cast(try_cast({{ expression }} as timestamptz) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#
    Spark reads the offset and returns the instant in the session time zone, which the
    profile sets to UTC (spark.sql.session.timeZone).
#}
{% macro spark__try_cast_timestamp_with_offset_to_utc(expression) -%}
    try_cast({{ expression }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro postgres__try_cast_timestamp_with_offset_to_utc(expression) -%}
    ({{ target.schema }}.cdp_try_cast_timestamptz({{ expression }}) at time zone 'UTC')
{%- endmacro %}
