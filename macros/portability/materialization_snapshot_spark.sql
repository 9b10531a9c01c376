{#
    Snapshots on Spark without Delta, Iceberg or Hudi. dbt-spark's own snapshot
    materialization refuses parquet tables because it updates dbt_valid_to with MERGE;
    this one (found before dbt-spark's: the root project wins) does the same as that
    MERGE by rewriting: the new snapshot (current rows with closed versions' dbt_valid_to
    set, plus the new versions) is written to a scratch table that then replaces the
    snapshot. Tables in a format with MERGE keep dbt-spark's merge. Not atomic: a failure
    between the drop and the rename loses the snapshot's history (Spark has no
    transactions), which is why production Spark should use Delta.
#}
{% materialization snapshot, adapter='spark' %}
    {%- set file_format = config.get('file_format') or 'parquet' -%}
    {%- set grant_config = config.get('grants') -%}
    {%- set strategy_name = config.get('strategy') -%}
    {% set target_relation_exists, target_relation = get_or_create_relation(
        database=none, schema=model.schema,
        identifier=model.get('alias', model.get('name')), type='table') -%}
    {%- set can_merge = file_format in ['delta', 'iceberg', 'hudi'] -%}

    {% if not adapter.check_schema_exists(model.database, model.schema) %}
        {% do create_schema(model.schema) %}
    {% endif %}
    {%- if not target_relation.is_table -%}
        {% do exceptions.relation_wrong_type(target_relation, 'table') %}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% set strategy_macro = strategy_dispatch(strategy_name) %}
    {% set strategy = strategy_macro(
        model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

    {% if not target_relation_exists %}
        {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
        {% call statement('main') %}
            {{ create_table_as(False, target_relation, build_sql) }}
        {% endcall %}
    {% else %}
        {% set columns = config.get('snapshot_table_column_names')
            or get_snapshot_table_column_names() %}
        {{ adapter.valid_snapshot_target(target_relation, columns) }}
        {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}
        {% set change_columns = ['dbt_change_type', 'DBT_CHANGE_TYPE', 'dbt_unique_key',
                                 'DBT_UNIQUE_KEY'] %}
        {#- a composite unique_key gives dbt_unique_key_1, _2... (as dbt's own snapshot) #}
        {% if config.get('unique_key') is not string %}
            {% for key in config.get('unique_key') %}
                {% do change_columns.extend(['dbt_unique_key_' ~ loop.index,
                                             'DBT_UNIQUE_KEY_' ~ loop.index]) %}
            {% endfor %}
        {% endif %}
        {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
            | rejectattr('name', 'in', change_columns) | list %}
        {% do create_columns(target_relation, missing_columns) %}
        {% if can_merge %}
            {% set source_columns = adapter.get_columns_in_relation(staging_table)
                | rejectattr('name', 'in', change_columns) | list %}
            {% call statement('main') %}
                {{ snapshot_merge_sql(
                    target=target_relation, source=staging_table,
                    insert_cols=source_columns | map(attribute='quoted') | list) }}
            {% endcall %}
        {% else %}
            {% set rewritten = target_relation.incorporate(
                path={'identifier': target_relation.identifier ~ '__dbt_rewrite'}) %}
            {% do adapter.drop_relation(rewritten) %}
            {% call statement('main') %}
                {{ create_table_as(False, rewritten, cdp.snapshot_rewrite_sql(
                    target_relation, staging_table, columns)) }}
            {% endcall %}
            {% do adapter.drop_relation(target_relation) %}
            {% do adapter.rename_relation(rewritten, target_relation) %}
        {% endif %}
    {% endif %}

    {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
    {% do apply_grants(target_relation, grant_config, should_revoke) %}
    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {% if staging_table is defined %}
        {% do post_snapshot(staging_table) %}
    {% endif %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
