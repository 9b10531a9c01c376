{#
    Splits components that hold more than one anchor (var identity_anchor_type, member_id):
    a breadth-first search from all anchors at once gives every node the anchor it is
    fewest hops from. A node reached from two or more anchors in the same round is
    contested: it belongs to no anchor and does not pass the search on.

    edges_relation: node_a, node_b (only the edges of conflicted components);
    anchors_relation: node_id. Writes output_relation (node_id, anchor_id, distance):
    anchor_id is null for contested nodes; nodes reachable only through contested ones
    are absent. Returns the number of rounds; fails past var identity_max_rounds.
#}
{% macro build_nearest_anchors(edges_relation, anchors_relation, output_relation, work_prefix) -%}
    {%- set max_rounds = var('identity_max_bfs_rounds', 512) -%}
    {%- set adjacency = cdp.identity_work_relation(
        output_relation, work_prefix ~ '_bfs_adjacency') -%}
    {%- set frontier = cdp.identity_work_relation(
        output_relation, work_prefix ~ '_bfs_frontier') -%}
    {%- set reached = cdp.identity_work_relation(output_relation, work_prefix ~ '_bfs_reached') -%}

    {% do cdp.identity_create_work_table(adjacency,
        '(select node_a as node_from, node_b as node_to from ' ~ edges_relation
        ~ ' union select node_b as node_from, node_a as node_to from ' ~ edges_relation ~ ')') %}
    {% do cdp.identity_create_work_table(output_relation,
        '(select node_id, node_id as anchor_id, 0 as distance from ' ~ anchors_relation ~ ')') %}
    {% do cdp.identity_create_work_table(frontier,
        '(select node_id, anchor_id from ' ~ output_relation ~ ')') %}

    {%- set state = {'rounds': 0} -%}
    {%- for round in range(1, max_rounds + 2) -%}
        {%- if cdp.identity_scalar('select count(*) from ' ~ frontier) == 0 -%}
            {% break %}
        {%- endif -%}
        {%- if round > max_rounds -%}
            {{ exceptions.raise_compiler_error(
                'nearest-anchor search did not finish in ' ~ max_rounds
                ~ ' rounds (var identity_max_bfs_rounds)') }}
        {%- endif -%}
        {% do cdp.identity_create_work_table(reached,
            '(select adjacency.node_to as node_id,'
            ~ ' case when min(frontier.anchor_id) = max(frontier.anchor_id)'
            ~ ' then min(frontier.anchor_id) end as anchor_id,'
            ~ ' ' ~ round ~ ' as distance'
            ~ ' from ' ~ frontier ~ ' as frontier'
            ~ ' inner join ' ~ adjacency
            ~ ' as adjacency on frontier.node_id = adjacency.node_from'
            ~ ' left join ' ~ output_relation
            ~ ' as labelled on adjacency.node_to = labelled.node_id'
            ~ ' where labelled.node_id is null'
            ~ ' group by adjacency.node_to)') %}
        {% do run_query('insert into ' ~ output_relation
            ~ ' select node_id, anchor_id, distance from ' ~ reached) %}
        {% do cdp.identity_create_work_table(frontier,
            '(select node_id, anchor_id from ' ~ reached ~ ' where anchor_id is not null)') %}
        {% do state.update({'rounds': round}) %}
    {%- endfor -%}
    {{ log('identity: nearest-anchor split finished in ' ~ state['rounds'] ~ ' rounds',
        info=true) }}

    {% do adapter.drop_relation(adjacency) %}
    {% do adapter.drop_relation(frontier) %}
    {% do adapter.drop_relation(reached) %}
    {{ return(state['rounds']) }}
{%- endmacro %}
