{#
    Clusters one edge list (node_a, node_b, is_anchor_a, is_anchor_b) into output_relation
    (node_id, component_id, cluster_id, is_contested): connected components, then the
    components holding two or more anchors are split by nearest anchor, and what no anchor
    reaches in them is clustered again on its own. Returns the rounds of each loop.
#}
{% macro build_identity_clusters(edges_relation, output_relation) -%}
    {%- set components = cdp.identity_work_relation(output_relation, 'components') -%}
    {%- set anchor_nodes = cdp.identity_work_relation(output_relation, 'anchor_nodes') -%}
    {%- set anchors = cdp.identity_work_relation(output_relation, 'anchors') -%}
    {%- set conflict_edges = cdp.identity_work_relation(output_relation, 'conflict_edges') -%}
    {%- set nearest = cdp.identity_work_relation(output_relation, 'nearest') -%}
    {%- set orphan_edges = cdp.identity_work_relation(output_relation, 'orphan_edges') -%}
    {%- set orphan_components = cdp.identity_work_relation(
        output_relation, 'orphan_components') -%}

    {%- set cc = cdp.build_connected_components(edges_relation, components, 'main') -%}

    {# the anchors of components that hold more than one #}
    {% do cdp.identity_create_work_table(anchor_nodes,
        '(select anchor_nodes.node_id, components.component_id from ('
        ~ 'select node_a as node_id from ' ~ edges_relation ~ ' where is_anchor_a'
        ~ ' union select node_b as node_id from ' ~ edges_relation ~ ' where is_anchor_b'
        ~ ') as anchor_nodes inner join ' ~ components ~ ' as components'
        ~ ' on anchor_nodes.node_id = components.node_id)') %}
    {% do cdp.identity_create_work_table(anchors,
        '(select node_id, component_id from ' ~ anchor_nodes ~ ' where component_id in ('
        ~ 'select component_id from ' ~ anchor_nodes
        ~ ' group by component_id having count(*) > 1))') %}
    {% do cdp.identity_create_work_table(conflict_edges,
        '(select edges.node_a, edges.node_b from ' ~ edges_relation ~ ' as edges inner join '
        ~ components ~ ' as components on edges.node_a = components.node_id'
        ~ ' where components.component_id in (select component_id from ' ~ anchors ~ '))') %}
    {%- set split_rounds = cdp.build_nearest_anchors(conflict_edges, anchors, nearest, 'split') -%}

    {# nodes of conflicted components that no anchor reached: cluster them among themselves #}
    {% do cdp.identity_create_work_table(orphan_edges,
        '(select conflict.node_a, conflict.node_b from ' ~ conflict_edges ~ ' as conflict'
        ~ ' left join ' ~ nearest ~ ' as near_a on conflict.node_a = near_a.node_id'
        ~ ' left join ' ~ nearest ~ ' as near_b on conflict.node_b = near_b.node_id'
        ~ ' where near_a.node_id is null and near_b.node_id is null)') %}
    {%- set orphan_cc = cdp.build_connected_components(
        orphan_edges, orphan_components, 'orphan') -%}

    {%- set clusters_sql -%}
        (
            select
                components.node_id,
                components.component_id,
                case
                    when nearest.node_id is not null then nearest.anchor_id
                    when orphans.node_id is not null then orphans.component_id
                    when conflicted.component_id is not null then components.node_id
                    else components.component_id
                end as cluster_id,
                coalesce(nearest.node_id is not null and nearest.anchor_id is null, false)
                    as is_contested
            from {{ components }} as components
            left join {{ nearest }} as nearest on components.node_id = nearest.node_id
            left join {{ orphan_components }} as orphans on components.node_id = orphans.node_id
            left join (select distinct component_id from {{ anchors }}) as conflicted
                on components.component_id = conflicted.component_id
        )
    {%- endset -%}
    {% do cdp.identity_create_work_table(output_relation, clusters_sql) %}
    {% for relation in [components, anchor_nodes, anchors, conflict_edges, nearest, orphan_edges,
                        orphan_components] %}
        {% do adapter.drop_relation(relation) %}
    {% endfor %}
    {{ return({'cc_rounds': cc['rounds'], 'cc_jumps': cc['jumps'], 'split_rounds': split_rounds,
               'orphan_rounds': orphan_cc['rounds']}) }}
{%- endmacro %}
