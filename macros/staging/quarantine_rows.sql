{#
    Quarantine rows for one base model: every rejected row (is_row_rejected = true, with its
    rejection_reason), plus one row per field whose raw value was present but unusable
    (is_row_rejected = false: the row is staged with that field set to null).
    field_checks: list of [column_name, raw_column, clean_column, reason].
#}
{% macro quarantine_rows(relation, source_name, key_column, field_checks) -%}
    select
        '{{ source_name }}' as source_name,
        source_row_id,
        cast({{ key_column }} as {{ dbt.type_string() }}) as source_key,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as raw_value,
        rejection_reason as reason,
        true as is_row_rejected
    from {{ relation }}
    where rejection_reason is not null
    {%- for column_name, raw_column, clean_column, reason in field_checks %}
    union all
    select
        '{{ source_name }}' as source_name,
        source_row_id,
        cast({{ key_column }} as {{ dbt.type_string() }}) as source_key,
        '{{ column_name }}' as column_name,
        cast({{ raw_column }} as {{ dbt.type_string() }}) as raw_value,
        '{{ reason }}' as reason,
        false as is_row_rejected
    from {{ relation }}
    where rejection_reason is null and {{ raw_column }} is not null and {{ clean_column }} is null
    {%- endfor %}
{%- endmacro %}
