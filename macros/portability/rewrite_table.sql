{#
    Replace the rows of `relation` by the result of `select_sql` (its columns, in the
    table's order), where the engine can neither update nor delete rows (Spark's parquet
    tables): the result is written to a copy of the table's definition (same format and
    partitioning), which then takes the table's place. Views over it follow the name. Not
    atomic: Spark has no transactions (use Delta tables in production).
#}
{% macro rewrite_table(relation, select_sql) -%}
    {%- set relation = relation.incorporate(type='table') -%}
    {%- set rewritten = relation.incorporate(
        path={'identifier': relation.identifier ~ '__cdp_rewrite'}) -%}
    {% do adapter.drop_relation(rewritten) %}
    {% do run_query('create table ' ~ rewritten ~ ' like ' ~ relation) %}
    {% do run_query('insert into ' ~ rewritten ~ ' ' ~ select_sql) %}
    {% do adapter.drop_relation(relation) %}
    {% do adapter.rename_relation(rewritten, relation) %}
{%- endmacro %}
