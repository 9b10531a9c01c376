{#
    Remove the people in `worklist` (see forgotten_people_identifiers) from one table, as
    its meta.cdp_privacy `rule` says:
      mode: erase            null every column but keep_columns and set rejection_reason
                             to 'erasure_request' (base models: raw rows stay accounted
                             for); otherwise the rows are deleted.
      identifier_columns     [[identifier_type, column], ...] holding plain identifiers
      identifier_pairs       [[type_column, value_column], ...]: identifiers with their type
      node_id_columns        [column, ...] holding identity node ids
      customer_id_columns    [column, ...] holding customer ids
      record_columns         [source_name, source_key]: also every row of a source record
                             that has one of the node ids (with node_id_columns)
      parent                 {model, key}: rows whose parent record was erased
      records_with_nodes_in  {model, record_columns}: rows of a source record that `model`
                             (identity_identifier_occurrences) gives one of the node ids
                             (purge_forgotten_people lists those records once per model,
                             in `forgotten_records`: {model: scratch relation}):
                             the person's records, whatever customer they were resolved to
                             (purge_forgotten_people runs these rules before all others,
                             while that model still holds the rows)
      state_tables           [{suffix, node_id_columns}]: scratch tables a custom
                             materialization keeps beside the model (<name>__<suffix>)
      log_customers_to       {model, column}: before deleting, append the customers of
                             the rows deleted (from `column`) to `model`
                             (identity_customer_touches), so that the marts kept by
                             customer recompute a customer who lost records but whose id
                             no request names; the log's own rule then drops the ids of
                             the forgotten people
#}
{% macro purge_forgotten_rows(relation, rule, worklist, forgotten_records={}) -%}
{%- set conditions = [] -%}
{%- for identifier_type, column in rule.get('identifier_columns', []) -%}
        {%- do conditions.append(
            'target_rows.' ~ column ~ ' in (select forgotten.identifier_value from '
            ~ worklist ~ " as forgotten where forgotten.identifier_type = '"
            ~ identifier_type ~ "')"
        ) -%}
{%- endfor -%}
{%- for type_column, value_column in rule.get('identifier_pairs', []) -%}
        {%- do conditions.append(
            'exists (select 1 from ' ~ worklist ~ ' as forgotten'
            ~ ' where forgotten.identifier_type = target_rows.' ~ type_column
            ~ ' and forgotten.identifier_value = target_rows.' ~ value_column ~ ')'
        ) -%}
{%- endfor -%}
    {%- set forgotten_nodes = 'select forgotten.node_id from ' ~ worklist
        ~ ' as forgotten where forgotten.node_id is not null' -%}
{%- for column in rule.get('node_id_columns', []) -%}
{%- do conditions.append('target_rows.' ~ column ~ ' in (' ~ forgotten_nodes ~ ')') -%}
{%- endfor -%}
{%- for column in rule.get('customer_id_columns', []) -%}
        {%- do conditions.append(
            'target_rows.' ~ column ~ ' in (select forgotten.identifier_value from '
            ~ worklist ~ " as forgotten where forgotten.identifier_type = 'customer_id')"
        ) -%}
{%- endfor -%}
{%- if rule.get('record_columns') -%}
{%- set source_column, key_column = rule.record_columns -%}
{%- set node_matches = [] -%}
{%- for column in rule.get('node_id_columns', []) -%}
            {%- do node_matches.append(
                'same_record.' ~ column ~ ' in (' ~ forgotten_nodes ~ ')'
            ) -%}
{%- endfor -%}
        {#- Uncorrelated: PostgreSQL hashes the subquery once (a correlated exists under
            `or` ran once per row: 12+ minutes on 100k people's occurrences). -#}
        {%- do conditions.append(
            '(target_rows.' ~ source_column ~ ', target_rows.' ~ key_column ~ ') in ('
            ~ 'select same_record.' ~ source_column ~ ', same_record.' ~ key_column
            ~ ' from ' ~ relation ~ ' as same_record where '
            ~ node_matches | join(' or ') ~ ')'
        ) -%}
{%- endif -%}
{%- if rule.get('records_with_nodes_in') -%}
{%- set records = forgotten_records.get(rule.records_with_nodes_in.model) -%}
{%- if records is not none -%}
{%- set source_column, key_column = rule.records_with_nodes_in.record_columns -%}
            {%- do conditions.append(
                '(target_rows.' ~ source_column ~ ', target_rows.' ~ key_column ~ ') in ('
                ~ 'select forgotten_records.source_name, forgotten_records.source_key from '
                ~ records ~ ' as forgotten_records)'
            ) -%}
{%- endif -%}
{%- endif -%}
{%- if rule.get('parent') -%}
{%- set parent = cdp.model_relation(rule.parent.model) -%}
{%- if parent is not none -%}
            {%- do conditions.append(
                'target_rows.' ~ rule.parent.key ~ ' in (select parent_rows.'
                ~ rule.parent.key ~ ' from ' ~ parent ~ ' as parent_rows'
                ~ " where parent_rows.rejection_reason = 'erasure_request')"
            ) -%}
{%- endif -%}
{%- endif -%}

{%- if conditions -%}
{%- if rule.get('mode') == 'erase' -%}
{%- set keep = rule.get('keep_columns', []) + ['rejection_reason'] -%}
{%- set assignments = {} -%}
{%- for column in adapter.get_columns_in_relation(relation) -%}
{%- if column.name not in keep -%}
                    {%- do assignments.update({column.name: 'null'}) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do assignments.update({'rejection_reason': "'erasure_request'"}) -%}
            {%- do cdp.update_rows(relation, assignments,
                "coalesce(target_rows.rejection_reason, '') <> 'erasure_request'"
                ~ ' and (' ~ conditions | join(' or ') ~ ')'
            ) -%}
        {%- else -%}
{%- do cdp.log_purged_customers(relation, rule, conditions | join(' or ')) -%}
            {%- do cdp.delete_rows(
                relation, conditions | join(' or ')
            ) -%}
{%- endif -%}
{%- endif -%}

{%- for state in rule.get('state_tables', []) -%}
        {%- set state_relation = adapter.get_relation(
            database=relation.database, schema=relation.schema,
            identifier=relation.identifier ~ '__' ~ state.suffix
        ) -%}
{%- if state_relation is not none -%}
            {%- do cdp.purge_forgotten_rows(
                state_relation, {'node_id_columns': state.node_id_columns}, worklist
            ) -%}
{%- endif -%}
{%- endfor -%}
{%- endmacro %}
