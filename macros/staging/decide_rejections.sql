{#
    The last step of every base model: each row of `rows` (a CTE with row_error, null when
    the row is usable) with its version_rank among the usable rows with the same key (1 is
    the version kept, by `order_by`; null for an unusable row) and its rejection_reason:
    row_error, else duplicate_key for every version but the first.
    Few keys repeat, so only their rows are ranked: a window over every (wide) row sorts
    them all, which cost more than everything else in a base model of events.

    On an incremental run `rows` holds only the new raw rows (source_rows): the usable rows
    already staged for the keys they touch are ranked with them (rows_with_loaded_versions)
    and rewritten (delete+insert on source_row_id), so a new version of an old key demotes
    the kept one to duplicate_key, exactly as a full build ranks them.
    staged_at (the run's start) marks every row a run wrote, the rewritten ones too:
    downstream incremental models (fct_events) find what changed since their last run with
    a filter on it instead of an anti-join over every staged row.
#}
{% macro decide_rejections(rows, key_columns, order_by) -%}
    {%- set key_match = [] -%}
    {%- for column in key_columns -%}
        {%- do key_match.append('rows_checked_once.' ~ column ~ ' = repeated_keys.' ~ column) -%}
    {%- endfor -%}
    with

    rows_checked_once as {{ cdp.materialized_cte() }} (
        {{ cdp.rows_with_loaded_versions(rows, key_columns) }}
    ),

    repeated_keys as (
        select {{ key_columns | join(', ') }}
        from rows_checked_once
        where row_error is null
        group by {{ key_columns | join(', ') }}
        having count(*) > 1
    ),

    versions_ranked as (
        select
            rows_checked_once.source_row_id,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by }}
            ) as version_rank
        from rows_checked_once
        where rows_checked_once.row_error is null
            and exists (
                select 1 from repeated_keys where {{ key_match | join(' and ') }}
            )
    )

    select
        rows_checked_once.*,
        case
            when rows_checked_once.row_error is null
                then coalesce(versions_ranked.version_rank, 1)
        end as version_rank,
        coalesce(
            rows_checked_once.row_error,
            case when versions_ranked.version_rank > 1 then 'duplicate_key' end
        ) as rejection_reason,
        {{ cdp.run_started_timestamp() }} as staged_at
    from rows_checked_once
    left outer join versions_ranked
        on rows_checked_once.source_row_id = versions_ranked.source_row_id
{%- endmacro %}
