{#
    The partition_by config of an upsert model (see upsert_strategy): the columns whose
    partitions a Spark run overwrites; none on engines that delete by key.
#}
{% macro upsert_partition_by(columns) -%}
    {{ return(adapter.dispatch('upsert_partition_by', 'cdp')(columns)) }}
{%- endmacro %}

{% macro default__upsert_partition_by(columns) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__upsert_partition_by(columns) -%}
    {{ return(columns) }}
{%- endmacro %}
