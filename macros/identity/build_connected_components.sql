{#
    Connected components of an undirected graph, in SQL that runs on any engine with
    GROUP BY, LEFT JOIN, LEAST/GREATEST and DISTINCT ("hook, compress, contract"; see
    shared IDENTITY-NOTES): each round every edge's larger endpoint hooks to its smallest
    neighbour, the hook table is compressed by pointer jumping, node labels follow the
    hooks and the edge list is contracted to the new roots. Ends when no edge is left,
    in a few rounds even on long chains, whatever the order of the ids.

    edges_relation: columns node_a, node_b (bigint). Writes output_relation with
    node_id, component_id (the smallest node id of the component) for every node that
    has an edge. Returns {'rounds': n, 'jumps': m}; fails loudly past var
    identity_max_rounds (64).
#}
{% macro build_connected_components(edges_relation, output_relation, work_prefix) -%}
    {%- set max_rounds = var('identity_max_rounds', 64) -%}
    {%- set edges = cdp.identity_work_relation(output_relation, work_prefix ~ '_cc_edges') -%}
    {%- set next_edges = cdp.identity_work_relation(
        output_relation, work_prefix ~ '_cc_edges_next') -%}
    {%- set hooks = cdp.identity_work_relation(output_relation, work_prefix ~ '_cc_hooks') -%}
    {%- set next_hooks = cdp.identity_work_relation(
        output_relation, work_prefix ~ '_cc_hooks_next') -%}
    {%- set labels = cdp.identity_work_relation(output_relation, work_prefix ~ '_cc_labels') -%}
    {%- set next_labels = cdp.identity_work_relation(
        output_relation, work_prefix ~ '_cc_labels_next') -%}

    {% do cdp.identity_create_work_table(edges,
        '(select distinct least(node_a, node_b) as node_a, greatest(node_a, node_b) as node_b'
        ~ ' from ' ~ edges_relation ~ ' where node_a <> node_b)') %}
    {% do cdp.identity_create_work_table(labels,
        '(select node_a as node_id, node_a as component_id from ' ~ edges
        ~ ' union select node_b as node_id, node_b as component_id from ' ~ edges ~ ')') %}

    {%- set state = {
        'rounds': 0, 'jumps': 0, 'edges': cdp.identity_scalar('select count(*) from ' ~ edges)
    } -%}
    {%- for round in range(1, max_rounds + 2) -%}
        {%- if state['edges'] == 0 -%}{% break %}{%- endif -%}
        {%- if round > max_rounds -%}
            {{ exceptions.raise_compiler_error(
                'connected components did not converge in ' ~ max_rounds
                ~ ' rounds (var identity_max_rounds); ' ~ state['edges'] ~ ' edges left') }}
        {%- endif -%}
        {# 1. hook: each larger endpoint points to its smallest neighbour #}
        {% do cdp.identity_create_work_table(hooks,
            '(select node_b as node_id, min(node_a) as parent_id from ' ~ edges
            ~ ' group by node_b)') %}
        {# 2. compress the hook table by pointer jumping until every parent is a root #}
        {%- for jump in range(64) -%}
            {%- if cdp.identity_scalar('select count(*) from ' ~ hooks ~ ' as child inner join '
                ~ hooks ~ ' as parent on child.parent_id = parent.node_id') == 0 -%}
                {% break %}
            {%- endif -%}
            {% do cdp.identity_create_work_table(next_hooks,
                '(select child.node_id, coalesce(parent.parent_id, child.parent_id) as parent_id'
                ~ ' from ' ~ hooks ~ ' as child left join ' ~ hooks
                ~ ' as parent on child.parent_id = parent.node_id)') %}
            {% do adapter.drop_relation(hooks) %}
            {% do adapter.rename_relation(next_hooks, hooks) %}
            {% do state.update({'jumps': state['jumps'] + 1}) %}
        {%- endfor -%}
        {# 3. relabel nodes through the compressed hooks #}
        {% do cdp.identity_create_work_table(next_labels,
            '(select labels.node_id, coalesce(hooks.parent_id, labels.component_id) as component_id'
            ~ ' from ' ~ labels ~ ' as labels left join ' ~ hooks
            ~ ' as hooks on labels.component_id = hooks.node_id)') %}
        {% do adapter.drop_relation(labels) %}
        {% do adapter.rename_relation(next_labels, labels) %}
        {# 4. contract the edges onto the roots, dropping self-loops and duplicates #}
        {% do cdp.identity_create_work_table(next_edges,
            '(select distinct least(a, b) as node_a, greatest(a, b) as node_b from ('
            ~ 'select coalesce(hook_a.parent_id, edges.node_a) as a,'
            ~ ' coalesce(hook_b.parent_id, edges.node_b) as b'
            ~ ' from ' ~ edges ~ ' as edges'
            ~ ' left join ' ~ hooks ~ ' as hook_a on edges.node_a = hook_a.node_id'
            ~ ' left join ' ~ hooks ~ ' as hook_b on edges.node_b = hook_b.node_id'
            ~ ') as contracted where a <> b)') %}
        {% do adapter.drop_relation(edges) %}
        {% do adapter.rename_relation(next_edges, edges) %}
        {% do state.update({'rounds': round,
            'edges': cdp.identity_scalar('select count(*) from ' ~ edges)}) %}
        {{ log('identity: connected components round ' ~ round ~ ', ' ~ state['edges']
            ~ ' edges left, ' ~ state['jumps'] ~ ' pointer jumps so far', info=true) }}
    {%- endfor -%}

    {% do adapter.drop_relation(output_relation) %}
    {% do adapter.rename_relation(labels, output_relation) %}
    {% do adapter.drop_relation(edges) %}
    {% do adapter.drop_relation(hooks) %}
    {{ return({'rounds': state['rounds'], 'jumps': state['jumps']}) }}
{%- endmacro %}
