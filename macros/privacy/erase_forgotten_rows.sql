{#
    The rows of a base model (`rows_sql`, a complete select) with every row of a forgotten
    person erased: all columns null except the model's meta.cdp_privacy.keep_columns (its
    record key), and rejection_reason = 'erasure_request'. The row stays, so the quarantine
    still accounts for every raw row (and tells the loader which raw records to delete),
    but nothing of the person does.

    A row is a forgotten person's when one of its identifier columns
    (meta.cdp_privacy.identifier_columns: [[identifier_type, column], ...]) hashes to a
    privacy_tombstones row, or its parent record (meta.cdp_privacy.parent: {model, key})
    was erased. Nulled columns are cast back to their type (query_column_types), so the
    table keeps the column types of a build without tombstones. Tombstones are read by name (they are built downstream, from the identity
    registry): before the first tombstone exists this is `rows_sql` unchanged.
#}
{% macro erase_forgotten_rows(rows_sql) -%}
    {%- set tombstones = none if model.resource_type == 'unit_test'
        else cdp.model_relation('privacy_tombstones') -%}
    {%- if tombstones is none or not cdp.relation_has_rows(tombstones) -%}
        {{ rows_sql }}
    {%- else -%}
        {%- set rule = config.get('meta', {}).get('cdp_privacy', {}) -%}
        {%- set columns = get_columns_in_query(rows_sql) -%}
        {%- set column_types = cdp.query_column_types(rows_sql) -%}
        {%- set keep = rule.get('keep_columns', []) + ['rejection_reason'] -%}
        {%- set conditions = [] -%}
        {%- for identifier_type, column in rule.get('identifier_columns', []) -%}
            {%- do conditions.append(
                cdp.identifier_hash("'" ~ identifier_type ~ "'", 'rows_decided.' ~ column)
                ~ ' in (select tombstones.identifier_hash from ' ~ tombstones
                ~ ' as tombstones)'
            ) -%}
        {%- endfor -%}
        {%- for type_column, value_column in rule.get('identifier_pairs', []) -%}
            {%- do conditions.append(
                cdp.identifier_hash('rows_decided.' ~ type_column, 'rows_decided.' ~ value_column)
                ~ ' in (select tombstones.identifier_hash from ' ~ tombstones
                ~ ' as tombstones)'
            ) -%}
        {%- endfor -%}
        {%- if rule.get('parent') -%}
            {%- do conditions.append(
                'rows_decided.' ~ rule.parent.key ~ ' in (select parent_rows.'
                ~ rule.parent.key ~ ' from ' ~ ref(rule.parent.model) ~ ' as parent_rows'
                ~ " where parent_rows.rejection_reason = 'erasure_request')"
            ) -%}
        {%- endif -%}
        select
        {%- for column in columns %}
            {%- if column == 'rejection_reason' %}
                    case
                        when rows_marked.is_erased then 'erasure_request'
                        else rows_marked.rejection_reason
                    end as rejection_reason
                {%- elif column in keep %}
                    rows_marked.{{ column }}
                {%- else %}
                    {%- set nulled = 'case when not rows_marked.is_erased then rows_marked.'
                        ~ column ~ ' end' %}
                    {{ 'cast(' ~ nulled ~ ' as ' ~ column_types[column] ~ ')'
                        if column in column_types else nulled }} as {{ column }}
            {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
        from (
            select
                rows_decided.*,
                coalesce({{ conditions | join(' or ') }}, false) as is_erased
            from ({{ rows_sql }}) as rows_decided
        ) as rows_marked
    {%- endif -%}
{%- endmacro %}
