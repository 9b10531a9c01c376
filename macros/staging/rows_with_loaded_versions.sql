{#
    The rows decide_rejections ranks: `rows` (a CTE with row_error), and on an incremental
    run also the usable rows the table already holds (version_rank not null: erased rows
    are not ranked again) with a key of a usable row of `rows`. `rows` then holds only new
    raw rows (source_rows), so this is every usable version of the keys they touch, as a
    full build would rank them. The table's columns before version_rank are the columns of
    `rows`: a base model selects them, then version_rank and rejection_reason
    (decide_rejections), then any it derives from them.
#}
{#
-- sqlfluff:exclude_rules:layout.indent
    (For sqlfluff: it would indent the SQL of each branch by Jinja nesting alone.)
#}
{% macro rows_with_loaded_versions(rows, key_columns) -%}
    {%- if model.resource_type == 'unit_test' or not is_incremental() -%}
    select * from {{ rows }}
    {%- else -%}
    {%- set columns = cdp.columns_before(this, 'version_rank') | join(', ') -%}
    select {{ columns }} from {{ rows }}
    union all
    select {{ columns }}
    from {{ this }} as loaded
    where loaded.version_rank is not null
        and exists (
            select 1 from {{ rows }} as new_rows
            where new_rows.row_error is null
                {%- for column in key_columns %}
                and new_rows.{{ column }} = loaded.{{ column }}
                {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{# The names of `relation`'s columns before the column `name` (all of them without it). #}
{% macro columns_before(relation, name) -%}
    {%- set columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower == name | lower -%}{%- break -%}{%- endif -%}
        {%- do columns.append(column.name) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
