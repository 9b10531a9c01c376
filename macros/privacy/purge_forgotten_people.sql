{#
    Post-hook of privacy_tombstones: removes the people forgotten in this run from every
    table built before them or kept across runs. Models and snapshots declare how, in
    meta.cdp_privacy (see purge_forgotten_rows); tables built after the tombstones from
    purged inputs need nothing. Runs inside the model's transaction; the plain-text
    worklist is a scratch table dropped before the transaction ends.
#}
{% macro purge_forgotten_people() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set worklist = cdp.identity_work_relation(this, 'worklist') -%}
    {%- set this_run = "select request_id from " ~ this
        ~ " where dbt_invocation_id = '" ~ invocation_id ~ "'" -%}
    {%- if not cdp.relation_has_rows('(' ~ this_run ~ ') as requests_of_this_run') -%}
        {{ return('') }}
    {%- endif -%}
    {%- do cdp.identity_create_work_table(worklist, cdp.forgotten_people_identifiers(
        ref('identity_customer_registry'), this_run
    )) -%}
    {#- Rules reading the occurrences first (they still hold the forgotten nodes' rows);
        then parents before children: a child's rule reads its parent's erased rows. -#}
    {%- set nodes = [] -%}
    {%- for pass in ['records_with_nodes_in', 'no_parent', 'parent'] -%}
        {%- for node in graph.nodes.values() -%}
            {%- set rule = node.config.get('meta', {}).get('cdp_privacy') -%}
            {%- if node.resource_type in ('model', 'snapshot') and rule -%}
                {%- set rule_pass = 'records_with_nodes_in' if rule.get('records_with_nodes_in')
                    else ('parent' if rule.get('parent') is not none else 'no_parent') -%}
                {%- if rule_pass == pass -%}
                    {%- do nodes.append(node) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for node in nodes -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias
        ) -%}
        {%- if relation is not none -%}
            {%- do cdp.purge_forgotten_rows(
                relation, node.config.meta.cdp_privacy, worklist
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do adapter.drop_relation(worklist) -%}
    {{ return('') }}
{%- endmacro %}
