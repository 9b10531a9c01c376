{#
    The last step of every base model: each row of `rows` (a CTE with row_error, null when
    the row is usable) ranked among the rows with the same key, usable rows apart from
    unusable ones (version_rank 1 is the version kept, by `order_by`), and its
    rejection_reason: row_error, else duplicate_key for every version but the first.
#}
{% macro decide_rejections(rows, key_columns, order_by) -%}
    select
        *,
        coalesce(row_error, case when version_rank > 1 then 'duplicate_key' end) as rejection_reason
    from (
        select
            *,
            row_number() over (
                partition by row_error is null, {{ key_columns | join(', ') }}
                order by {{ order_by }}
            ) as version_rank
        from {{ rows }}
    ) as versions_ranked
{%- endmacro %}
