{#
    The incremental_strategy of a model whose runs replace rows by unique_key (fct_events,
    the id registry): delete+insert where the engine has it (DuckDB, PostgreSQL, Snowflake,
    Trino...). Spark without Delta/Iceberg (parquet tables) cannot delete or merge rows: it
    overwrites the partitions a run writes (insert_overwrite, partition_by from
    upsert_partition_by), and upsert_rows adds the rows of those partitions the run keeps.
#}
{% macro upsert_strategy() -%}
    {{ return(adapter.dispatch('upsert_strategy', 'cdp')()) }}
{%- endmacro %}

{% macro default__upsert_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__upsert_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}
