{#
    Materialization for the identity clustering step. The model's SQL returns the guarded
    identifier graph as edges: node_a, node_b (bigint surrogates) and is_anchor_a,
    is_anchor_b (true for identifiers of var identity_anchor_type). The result has one row
    per node with an edge: component_id (before splitting), cluster_id (null when
    contested) and is_contested (see build_identity_clusters).

    Incremental: the edges of each run are kept in <model>__edges. The next run finds the
    edges added and removed since, and re-clusters only the previous components those
    touch, plus new nodes; every other row is kept. Cluster keys are component minima, so
    the result equals a full rebuild (--full-refresh forces one). Each run is logged in
    <model>__log (mode, rounds, edges processed, seconds).
#}
{% materialization identity_clusters, default %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set input_edges = cdp.identity_work_relation(this, 'input') -%}
    {%- set previous_edges = cdp.identity_work_relation(this, 'edges') -%}
    {%- set affected_nodes = cdp.identity_work_relation(this, 'affected_nodes') -%}
    {%- set work_edges = cdp.identity_work_relation(this, 'work_edges') -%}
    {%- set work_clusters = cdp.identity_work_relation(this, 'work_clusters') -%}
    {%- set log_relation = cdp.identity_work_relation(this, 'log') -%}
    {%- set previous_edges_exist = adapter.get_relation(
        previous_edges.database, previous_edges.schema, previous_edges.identifier) is not none -%}
    {%- set incremental = existing_relation is not none and previous_edges_exist
        and not should_full_refresh() -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- set started = modules.datetime.datetime.now() -%}

    {% do cdp.identity_create_work_table(input_edges, '(' ~ sql ~ ')') %}
    {% if incremental %}
        {%- set affected_sql -%}
            (
                with changed_edges as (
                    (select node_a, node_b from {{ input_edges }}
                     except select node_a, node_b from {{ previous_edges }})
                    union all
                    (select node_a, node_b from {{ previous_edges }}
                     except select node_a, node_b from {{ input_edges }})
                ),
                changed_nodes as (
                    select node_a as node_id from changed_edges
                    union
                    select node_b as node_id from changed_edges
                ),
                touched_components as (
                    select distinct previous.component_id
                    from {{ existing_relation }} as previous
                    inner join changed_nodes on previous.node_id = changed_nodes.node_id
                )
                select previous.node_id
                from {{ existing_relation }} as previous
                inner join touched_components
                    on previous.component_id = touched_components.component_id
                union
                select node_id from changed_nodes
            )
        {%- endset -%}
        {% do cdp.identity_create_work_table(affected_nodes, affected_sql) %}
        {% do cdp.identity_create_work_table(work_edges,
            '(select * from ' ~ input_edges ~ ' where node_a in (select node_id from '
            ~ affected_nodes ~ ') or node_b in (select node_id from ' ~ affected_nodes ~ '))') %}
    {% else %}
        {% do cdp.identity_create_work_table(work_edges, '(select * from ' ~ input_edges ~ ')') %}
    {% endif %}
    {%- set work_edge_count = cdp.identity_scalar('select count(*) from ' ~ work_edges) -%}
    {%- set rounds = cdp.build_identity_clusters(work_edges, work_clusters) -%}

    {%- if incremental -%}
        {%- set final_sql -%}
            select previous.node_id, previous.component_id, previous.cluster_id, previous.is_contested
            from {{ existing_relation }} as previous
            left join {{ affected_nodes }} as affected on previous.node_id = affected.node_id
            where affected.node_id is null
            union all
            select node_id, component_id, cluster_id, is_contested from {{ work_clusters }}
        {%- endset -%}
    {%- else -%}
        {%- set final_sql = 'select node_id, component_id, cluster_id, is_contested from ' ~ work_clusters -%}
    {%- endif -%}

    {% call statement('main') -%}
        {{ create_table_as(False, intermediate_relation, final_sql) }}
    {%- endcall %}
    {% if existing_relation is not none %}
        {% do adapter.drop_relation(existing_relation) %}
    {% endif %}
    {% do adapter.rename_relation(intermediate_relation, target_relation) %}
    {% do adapter.drop_relation(previous_edges) %}
    {% do adapter.rename_relation(input_edges, previous_edges) %}

    {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
    {%- set log_row = "select " ~ cdp.run_started_timestamp() ~ " as run_started_at, '"
        ~ ('incremental' if incremental else 'full') ~ "' as run_mode, "
        ~ rounds['cc_rounds'] ~ " as cc_rounds, " ~ rounds['cc_jumps'] ~ " as cc_pointer_jumps, "
        ~ rounds['split_rounds'] ~ " as split_rounds, " ~ rounds['orphan_rounds']
        ~ " as orphan_cc_rounds, " ~ work_edge_count ~ " as edges_processed, "
        ~ "cast(" ~ seconds ~ " as " ~ dbt.type_float() ~ ") as seconds" -%}
    {% if adapter.get_relation(
        log_relation.database, log_relation.schema, log_relation.identifier) is none %}
        {% do run_query('create table ' ~ log_relation ~ ' as ' ~ log_row) %}
    {% else %}
        {% do run_query('insert into ' ~ log_relation ~ ' ' ~ log_row) %}
    {% endif %}
    {{ log('identity: ' ~ ('incremental' if incremental else 'full') ~ ' clustering of '
        ~ work_edge_count ~ ' edges in ' ~ rounds['cc_rounds'] ~ ' rounds ('
        ~ rounds['cc_jumps'] ~ ' pointer jumps), split ' ~ rounds['split_rounds'] ~ ' rounds, '
        ~ seconds ~ ' s', info=true) }}

    {% for relation in [affected_nodes, work_edges, work_clusters] %}
        {% do adapter.drop_relation(relation) %}
    {% endfor %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {% do persist_docs(target_relation, model) %}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
