{#
    The rows an upsert model (see upsert_strategy) writes, given `relation` (the name of
    its last CTE): those rows, and on Spark's incremental runs also the table's current
    rows in the partitions they touch whose unique_key they do not replace, because
    insert_overwrite rewrites each touched partition whole. Columns in the table's order.
#}
{% macro upsert_rows(relation) -%}
    {{ return(adapter.dispatch('upsert_rows', 'cdp')(relation)) }}
{%- endmacro %}

{% macro default__upsert_rows(relation) -%}
    select * from {{ relation }}
{%- endmacro %}

{#
-- sqlfluff:exclude_rules:layout.indent
    For sqlfluff (which reads the line above): the SQL of this macro is text to it, so it
    would indent the Jinja tags by Jinja nesting alone, against the SQL's indentation.
#}
{% macro spark__upsert_rows(relation) -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- set unique_key = config.get('unique_key') -%}
    {#- a unit test checks the rows the model writes, as on the other engines #}
    {%- if not (is_incremental() and partition_by and unique_key)
        or model.resource_type == 'unit_test' -%}
    select * from {{ relation }}
    {%- else -%}
        {%- set partitions = [partition_by] if partition_by is string else partition_by -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    select {{ columns | join(', ') }} from {{ relation }}
    union all
    select kept.{{ columns | join(', kept.') }}
    from {{ this }} as kept
    where exists (
            select 1 from {{ relation }} as touched
            where
                {%- for column in partitions %}
                {{ 'and ' if not loop.first }}touched.{{ column }} = kept.{{ column }}
                {%- endfor %}
        )
        and not exists (
            select 1 from {{ relation }} as replaced
            where
                {%- for column in keys %}
                {{ 'and ' if not loop.first }}replaced.{{ column }} = kept.{{ column }}
                {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}
