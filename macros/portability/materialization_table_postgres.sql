{#
    PostgreSQL `table` materialization that keeps the views built on a table.

    dbt's own table materialization builds the new table beside the old one, swaps the
    names and drops the old table with `cascade`: on PostgreSQL that drops every view on
    it (views bind to the table, not to its name), e.g. the bi views over the marts when
    only the marts are rebuilt (`dbt build --select marts`).

    So, when views depend on the existing table and this run will not rebuild them
    (cdp.dependent_views_outside_run), the new rows are built into an intermediate table
    and then replace the old rows in place (`truncate` + `insert`, one transaction): the
    views, their grants and comments stay. Readers see the old rows until the commit.
    When the columns changed (names or types), the rows cannot move in place: the table is
    swapped as dbt does, and a warning names the views that were dropped with it (rebuild
    them: `dbt build --select <model>+`). Without such views this is dbt's default.
    Incremental models (fct_events) keep their rows anyway; their --full-refresh swaps.
#}
{% materialization table, adapter='postgres' %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set dependent_views = [] -%}
    {%- if existing_relation is not none and existing_relation.is_table -%}
        {%- set dependent_views = cdp.dependent_views_outside_run(existing_relation) -%}
    {%- endif -%}
    {%- if not dependent_views -%}
        {{ return(dbt.materialization_table_default()) }}
    {%- endif -%}

    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
    {%- set grant_config = config.get('grants') -%}
    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
    {%- endcall %}

    {%- set new_columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(intermediate_relation) -%}
        {%- do new_columns.append(column.name ~ ' ' ~ column.data_type) -%}
    {%- endfor -%}
    {%- set old_columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(existing_relation) -%}
        {%- do old_columns.append(column.name ~ ' ' ~ column.data_type) -%}
    {%- endfor -%}
    {%- set in_place = new_columns == old_columns -%}

    {% if in_place %}
        {%- set column_list = [] -%}
        {%- for column in adapter.get_columns_in_relation(intermediate_relation) -%}
            {%- do column_list.append(adapter.quote(column.name)) -%}
        {%- endfor -%}
        {% call statement('replace_rows_in_place') -%}
            truncate table {{ target_relation }};
            insert into {{ target_relation }} ({{ column_list | join(', ') }})
            select {{ column_list | join(', ') }} from {{ intermediate_relation }}
        {%- endcall %}
        {{ adapter.drop_relation(intermediate_relation) }}
    {% else %}
        {% do exceptions.warn(
            "Columns of " ~ target_relation ~ " changed: the views on it are dropped with"
            ~ " the old table and this run does not rebuild them: "
            ~ dependent_views | join(', ') ~ ". Rebuild them: dbt build --select "
            ~ model.name ~ "+") %}
        {% do create_indexes(intermediate_relation) %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
        {{ adapter.rename_relation(intermediate_relation, target_relation) }}
    {% endif %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do apply_grants(target_relation, grant_config,
        should_revoke=should_revoke(existing_relation, full_refresh_mode=not in_place)) %}
    {% do persist_docs(target_relation, model) %}

    {{ adapter.commit() }}

    {% if not in_place %}
        {{ drop_relation_if_exists(backup_relation) }}
    {% endif %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
