{#
    The whole new content of a snapshot table after one run, as dbt's snapshot MERGE would
    leave it (see materialization_snapshot_spark.sql): every current row, with dbt_valid_to
    set where the staging table closes its version (change type update or delete), then
    the staging table's new versions (change type insert) not already present. Columns in
    the snapshot table's order.
    columns: dbt's snapshot column names (get_snapshot_table_column_names()).
#}
{#
-- sqlfluff:exclude_rules:layout.indent
    For sqlfluff (which reads the line above): the SQL of this macro is text to it, so it
    would indent the Jinja tags by Jinja nesting alone, against the SQL's indentation.
#}
{% macro snapshot_rewrite_sql(target_relation, staging_relation, columns) -%}
    {%- set target_columns = adapter.get_columns_in_relation(target_relation)
        | map(attribute='name') | list -%}
    {%- set valid_to_current = config.get('dbt_valid_to_current') -%}
    {%- set is_current -%}
        (snapshotted.{{ columns.dbt_valid_to }} is null
        {%- if valid_to_current %}
            or snapshotted.{{ columns.dbt_valid_to }} = {{ valid_to_current }}
        {%- endif %})
    {%- endset -%}
    select
        {%- for column in target_columns %}
        {%- if column | lower == columns.dbt_valid_to | lower %}
        case
            when closed.{{ columns.dbt_scd_id }} is not null and {{ is_current }}
                then closed.{{ columns.dbt_valid_to }}
            else snapshotted.{{ column }}
        end as {{ column }}
        {%- else %}
        snapshotted.{{ column }}
        {%- endif %}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ target_relation }} as snapshotted
    left outer join (
        select
            {{ columns.dbt_scd_id }},
            {{ columns.dbt_valid_to }}
        from {{ staging_relation }}
        where dbt_change_type in ('update', 'delete')
    ) as closed
        on snapshotted.{{ columns.dbt_scd_id }} = closed.{{ columns.dbt_scd_id }}
    union all
    select
        {%- for column in target_columns %}
        inserted.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ staging_relation }} as inserted
    where inserted.dbt_change_type = 'insert'
        and not exists (
            select 1
            from {{ target_relation }} as snapshotted
            where snapshotted.{{ columns.dbt_scd_id }} = inserted.{{ columns.dbt_scd_id }}
        )
{%- endmacro %}
