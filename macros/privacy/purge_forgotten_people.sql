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
    {#- The records the forgotten nodes are on, per holder model of a records_with_nodes_in
        rule: read once (a scan of every occurrence), before any table is purged. -#}
    {%- set forgotten_records = {} -%}
    {%- for node in nodes -%}
        {%- set holder_rule = node.config.meta.cdp_privacy.get('records_with_nodes_in') -%}
        {%- if holder_rule and holder_rule.model not in forgotten_records -%}
            {%- set holder = cdp.model_relation(holder_rule.model) -%}
            {%- if holder is not none -%}
                {%- set records = cdp.identity_work_relation(
                    this, 'records_' ~ (forgotten_records | length)) -%}
                {%- do cdp.identity_create_work_table(records,
                    'select distinct node_rows.source_name, node_rows.source_key from '
                    ~ holder ~ ' as node_rows where node_rows.node_id in (select'
                    ~ ' forgotten.node_id from ' ~ worklist ~ ' as forgotten'
                    ~ ' where forgotten.node_id is not null)') -%}
                {%- do forgotten_records.update({holder_rule.model: records}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for node in nodes -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias
        ) -%}
        {%- if relation is not none -%}
            {%- do cdp.purge_forgotten_rows(
                relation, node.config.meta.cdp_privacy, worklist, forgotten_records
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for records in forgotten_records.values() -%}
        {%- do adapter.drop_relation(records) -%}
    {%- endfor -%}
    {%- do adapter.drop_relation(worklist) -%}
    {{ return('') }}
{%- endmacro %}
