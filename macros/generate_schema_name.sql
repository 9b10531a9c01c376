{#
    Custom schemas are used as written (`staging`, `identity`, `marts`, ...) rather than
    prefixed with the target schema, so BI tools and syncs read stable names.
    Isolate environments with separate databases (or DuckDB files), not schema prefixes.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
