{#
    A stable 63-bit integer surrogate for a text key: the first 15 hex digits of its md5.
    Integer joins are what makes the identity loop fast; 60 bits keep collisions negligible
    (about 1 in 10^6 at 10^9 keys) and the value positive on every engine.
#}
{% macro hash_to_bigint(expression) -%}
    {{ return(adapter.dispatch('hash_to_bigint', 'cdp')(expression)) }}
{%- endmacro %}

{% macro default__hash_to_bigint(expression) -%}
    cast(('x' || substr({{ dbt.hash(expression) }}, 1, 15))::bit(60) as bigint)
{%- endmacro %}

{% macro duckdb__hash_to_bigint(expression) -%}
    cast(('0x' || substr({{ dbt.hash(expression) }}, 1, 15)) as bigint)
{%- endmacro %}

{% macro spark__hash_to_bigint(expression) -%}
    cast(conv(substr({{ dbt.hash(expression) }}, 1, 15), 16, 10) as bigint)
{%- endmacro %}
