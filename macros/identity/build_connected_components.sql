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
    {%- set next_hooks = cdp.identity_work_relation(
        output_relation, work_prefix ~ '_cc_hooks_next') -%}
    {%- set labels = cdp.identity_work_relation(output_relation, work_prefix ~ '_cc_labels') -%}
    {%- set next_labels = cdp.identity_work_relation(
        output_relation, work_prefix ~ '_cc_labels_next') -%}
    {#- Round 1 reads the input directly: duplicates do not change a minimum, and the
        contraction removes them. -#}
    {%- set input_edges = '(select least(node_a, node_b) as node_a, greatest(node_a, node_b)'
        ~ ' as node_b from ' ~ edges_relation ~ ' where node_a <> node_b)' -%}
    {#- Nodes are labelled once at the end (or every 8 rounds), through the chain of each
        round's compressed hooks: labelling every node every round costs a full pass. -#}
    {%- set pending_hooks = [] -%}
    {%- set state = {
        'rounds': 0, 'jumps': 0, 'current_edges': input_edges,
        'labels': '(select node_a as node_id, node_a as component_id from ' ~ input_edges
            ~ ' as input union select node_b as node_id, node_b as component_id from '
            ~ input_edges ~ ' as input)',
        'edges': cdp.identity_scalar('select count(*) from (select 1 as edge from '
            ~ input_edges ~ ' as input limit 1) as any_edge'),
    } -%}
    {%- for round in range(1, max_rounds + 2) -%}
        {%- if state['edges'] == 0 -%}{% break %}{%- endif -%}
        {%- if round > max_rounds -%}
            {{ exceptions.raise_compiler_error(
                'connected components did not converge in ' ~ max_rounds
                ~ ' rounds (var identity_max_rounds); ' ~ state['edges'] ~ ' edges left') }}
        {%- endif -%}
        {%- set hooks = cdp.identity_work_relation(
            output_relation, work_prefix ~ '_cc_hooks_' ~ round) -%}
        {# 1. hook: each larger endpoint points to its smallest neighbour #}
        {% do cdp.identity_create_work_table(hooks,
            '(select node_b as node_id, min(node_a) as parent_id from '
            ~ state['current_edges'] ~ ' as current_edges group by node_b)') %}
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
        {% do pending_hooks.append(hooks) %}
        {# 3. contract the edges onto the roots, dropping self-loops and duplicates #}
        {% do cdp.identity_create_work_table(next_edges,
            '(select distinct least(a, b) as node_a, greatest(a, b) as node_b from ('
            ~ 'select coalesce(hook_a.parent_id, current_edges.node_a) as a,'
            ~ ' coalesce(hook_b.parent_id, current_edges.node_b) as b'
            ~ ' from ' ~ state['current_edges'] ~ ' as current_edges'
            ~ ' left join ' ~ hooks ~ ' as hook_a on current_edges.node_a = hook_a.node_id'
            ~ ' left join ' ~ hooks ~ ' as hook_b on current_edges.node_b = hook_b.node_id'
            ~ ') as contracted where a <> b)') %}
        {% do adapter.drop_relation(edges) %}
        {% do adapter.rename_relation(next_edges, edges) %}
        {% do state.update({'rounds': round, 'current_edges': edges,
            'edges': cdp.identity_scalar('select count(*) from ' ~ edges)}) %}
        {# 4. every 8 rounds, and at the end, labels follow the pending hooks #}
        {%- if pending_hooks | length == 8 or state['edges'] == 0 -%}
            {% do cdp.identity_create_work_table(next_labels,
                cdp.identity_labels_through_hooks(state['labels'], pending_hooks)) %}
            {% do adapter.drop_relation(labels) %}
            {% do adapter.rename_relation(next_labels, labels) %}
            {% do state.update({'labels': labels}) %}
            {%- for relation in pending_hooks -%}
                {% do adapter.drop_relation(relation) %}
            {%- endfor -%}
            {% do pending_hooks.clear() %}
        {%- endif -%}
        {{ log('identity: connected components round ' ~ round ~ ', ' ~ state['edges']
            ~ ' edges left, ' ~ state['jumps'] ~ ' pointer jumps so far', info=true) }}
    {%- endfor -%}

    {%- if state['rounds'] == 0 -%}
        {% do cdp.identity_create_work_table(labels, state['labels']) %}
    {%- endif -%}
    {% do adapter.drop_relation(output_relation) %}
    {% do adapter.rename_relation(labels, output_relation) %}
    {% do adapter.drop_relation(edges) %}
    {{ return({'rounds': state['rounds'], 'jumps': state['jumps']}) }}
{%- endmacro %}

{#
    (node_id, component_id) of `labels` after following each hook table of `hooks` in turn
    (each maps a round's roots to the next round's): one query, nested once per table.
#}
{% macro identity_labels_through_hooks(labels, hooks) -%}
    {%- set query = namespace(sql='(select node_id, component_id from ' ~ labels
        ~ ' as start_labels)') -%}
    {%- for relation in hooks -%}
        {%- set query.sql = '(select step.node_id, coalesce(hook.parent_id, step.component_id)'
            ~ ' as component_id from ' ~ query.sql ~ ' as step left join ' ~ relation
            ~ ' as hook on step.component_id = hook.node_id)' -%}
    {%- endfor -%}
    {{ return(query.sql) }}
{%- endmacro %}
