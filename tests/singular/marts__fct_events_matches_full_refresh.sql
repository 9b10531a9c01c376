{#
    The incremental fct_events equals what a full refresh would write (int_events_unioned),
    processed_at aside. Fails with one row per event missing, extra or different, labelled
    by side. When it fails after late data, a source deletion or an identity change the
    incremental run cannot see: `dbt build --full-refresh -s fct_events+`.

    Opt-in: var marts_events_full_refresh_check (default false). The check recomputes the
    whole event stream and compares every row: the costliest node of a build (about 3
    minutes at 1M people), and after a full build it compares a table with itself. CI switches it on after incremental runs
    (tests/python/test_marts.py); in production, run it on a schedule, e.g. weekly:
    `dbt test -s marts__fct_events_matches_full_refresh
    --vars '{marts_events_full_refresh_check: true}'`. Every build runs the cheap half,
    marts__fct_events_counts_match_sources (event counts per source).
#}
{{ config(enabled=var('marts_events_full_refresh_check', false)) }}
{%- set columns = [
    'event_id', 'customer_id', 'event_type', 'channel', 'source_name', 'source_key',
    'occurred_at', 'revenue', 'event_context',
] %}

with

incremental_rows as (
    select {{ columns | join(', ') }} from {{ ref('fct_events') }}
),

full_refresh_rows as (
    select {{ columns | join(', ') }} from {{ ref('int_events_unioned') }}
),

only_in_incremental as (
    select * from incremental_rows
    except
    select * from full_refresh_rows
),

only_in_full_refresh as (
    select * from full_refresh_rows
    except
    select * from incremental_rows
),

differences as (
    select
        'only_in_fct_events' as side,
        {{ columns | join(',\n        ') }}
    from only_in_incremental
    union all
    select
        'only_in_full_refresh' as side,
        {{ columns | join(',\n        ') }}
    from only_in_full_refresh
)

select * from differences
