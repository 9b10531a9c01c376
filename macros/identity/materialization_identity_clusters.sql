{#
    Materialization for the identity clustering step. The model's SQL returns the guarded
    identifier graph as edges: node_a, node_b (bigint surrogates) and is_anchor_a,
    is_anchor_b (true for identifiers of var identity_anchor_type). The result has one row
    per node with an edge:
      cluster_id  - the customer cluster (null when contested)
      component_id - the connected component before splitting
      is_contested - reached from two anchors at the same distance
    Steps: connected components; components holding two or more anchors are split by the
    nearest anchor; what in them no anchor reaches is clustered again on its own.
    Each run's rounds are appended to <model>__log.
#}
{% materialization identity_clusters, default %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set input_edges = cdp.identity_work_relation(this, 'input') -%}
    {%- set components = cdp.identity_work_relation(this, 'components') -%}
    {%- set conflict_edges = cdp.identity_work_relation(this, 'conflict_edges') -%}
    {%- set anchors = cdp.identity_work_relation(this, 'anchors') -%}
    {%- set nearest = cdp.identity_work_relation(this, 'nearest') -%}
    {%- set orphan_edges = cdp.identity_work_relation(this, 'orphan_edges') -%}
    {%- set orphan_components = cdp.identity_work_relation(this, 'orphan_components') -%}
    {%- set log_relation = cdp.identity_work_relation(this, 'log') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- set started = modules.datetime.datetime.now() -%}

    {% do cdp.identity_create_work_table(input_edges, '(' ~ sql ~ ')') %}
    {%- set cc = cdp.build_connected_components(input_edges, components, 'main') -%}

    {# anchors of components that hold more than one #}
    {% do cdp.identity_create_work_table(anchors,
        '(select anchor_nodes.node_id from (select node_a as node_id from ' ~ input_edges
        ~ ' where is_anchor_a union select node_b as node_id from ' ~ input_edges
        ~ ' where is_anchor_b) as anchor_nodes inner join ' ~ components
        ~ ' as components on anchor_nodes.node_id = components.node_id'
        ~ ' where components.component_id in (select components.component_id from ('
        ~ 'select node_a as node_id from ' ~ input_edges ~ ' where is_anchor_a union select node_b from '
        ~ input_edges ~ ' where is_anchor_b) as anchor_nodes inner join ' ~ components
        ~ ' as components on anchor_nodes.node_id = components.node_id'
        ~ ' group by components.component_id having count(*) > 1))') %}
    {% do cdp.identity_create_work_table(conflict_edges,
        '(select input.node_a, input.node_b from ' ~ input_edges ~ ' as input inner join '
        ~ components ~ ' as components on input.node_a = components.node_id'
        ~ ' where components.component_id in (select conflicted.component_id from ' ~ components
        ~ ' as conflicted inner join ' ~ anchors ~ ' as anchors on conflicted.node_id = anchors.node_id))') %}
    {%- set bfs_rounds = cdp.build_nearest_anchors(conflict_edges, anchors, nearest, 'split') -%}

    {# nodes of conflicted components that no anchor reached: cluster them among themselves #}
    {% do cdp.identity_create_work_table(orphan_edges,
        '(select conflict.node_a, conflict.node_b from ' ~ conflict_edges ~ ' as conflict'
        ~ ' left join ' ~ nearest ~ ' as near_a on conflict.node_a = near_a.node_id'
        ~ ' left join ' ~ nearest ~ ' as near_b on conflict.node_b = near_b.node_id'
        ~ ' where near_a.node_id is null and near_b.node_id is null)') %}
    {%- set orphan_cc = cdp.build_connected_components(orphan_edges, orphan_components, 'orphan') -%}

    {%- set final_sql -%}
        select
            components.node_id,
            components.component_id,
            case
                when nearest.node_id is not null then nearest.anchor_id
                when orphans.node_id is not null then orphans.component_id
                when conflicted.component_id is not null then components.node_id
                else components.component_id
            end as cluster_id,
            coalesce(nearest.node_id is not null and nearest.anchor_id is null, false) as is_contested
        from {{ components }} as components
        left join {{ nearest }} as nearest on components.node_id = nearest.node_id
        left join {{ orphan_components }} as orphans on components.node_id = orphans.node_id
        left join (
            select distinct conflicted_nodes.component_id
            from {{ components }} as conflicted_nodes
            inner join {{ anchors }} as anchors on conflicted_nodes.node_id = anchors.node_id
        ) as conflicted on components.component_id = conflicted.component_id
    {%- endset -%}

    {% call statement('main') -%}
        {{ create_table_as(False, intermediate_relation, final_sql) }}
    {%- endcall %}
    {% if existing_relation is not none %}
        {% do adapter.drop_relation(existing_relation) %}
    {% endif %}
    {% do adapter.rename_relation(intermediate_relation, target_relation) %}

    {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
    {%- set log_row = "select cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S')
        ~ "' as " ~ dbt.type_timestamp() ~ ") as run_started_at, "
        ~ cc['rounds'] ~ " as cc_rounds, " ~ cc['jumps'] ~ " as cc_pointer_jumps, "
        ~ bfs_rounds ~ " as split_rounds, " ~ orphan_cc['rounds'] ~ " as orphan_cc_rounds, "
        ~ "cast(" ~ seconds ~ " as " ~ dbt.type_float() ~ ") as seconds" -%}
    {% if load_cached_relation(log_relation) is none and adapter.get_relation(
            log_relation.database, log_relation.schema, log_relation.identifier) is none %}
        {% do run_query('create table ' ~ log_relation ~ ' as ' ~ log_row) %}
    {% else %}
        {% do run_query('insert into ' ~ log_relation ~ ' ' ~ log_row) %}
    {% endif %}
    {{ log('identity: clustered in ' ~ cc['rounds'] ~ ' rounds (' ~ cc['jumps']
        ~ ' pointer jumps), split ' ~ bfs_rounds ~ ' rounds, ' ~ seconds ~ ' s', info=true) }}

    {% for relation in [input_edges, components, conflict_edges, anchors, nearest, orphan_edges, orphan_components] %}
        {% do adapter.drop_relation(relation) %}
    {% endfor %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {% do persist_docs(target_relation, model) %}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
