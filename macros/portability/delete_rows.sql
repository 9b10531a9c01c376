{#
    Delete the rows of `relation` (aliased `target_rows`) for which `condition` holds. Spark
    without Delta cannot delete from a parquet table: it rewrites the table without them
    (see rewrite_table).
#}
{% macro delete_rows(relation, condition) -%}
    {% do adapter.dispatch('delete_rows', 'cdp')(relation, condition) %}
{%- endmacro %}

{% macro default__delete_rows(relation, condition) -%}
    {% do run_query('delete from ' ~ relation ~ ' as target_rows where ' ~ condition) %}
{%- endmacro %}

{% macro spark__delete_rows(relation, condition) -%}
    {%- if not cdp.relation_has_rows('(select 1 from ' ~ relation ~ ' as target_rows where '
        ~ condition ~ ') as matching_rows') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {% do cdp.rewrite_table(relation,
        'select ' ~ columns | join(', ') ~ ' from ' ~ relation ~ ' as target_rows'
        ~ ' where not coalesce(' ~ condition ~ ', false)') %}
{%- endmacro %}
