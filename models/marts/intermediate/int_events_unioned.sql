{{ config(materialized='view') }}

{#
    Every customer event from every source, resolved to today's customer: what a full
    refresh of fct_events writes (macros/marts/event_stream.sql, no window). Grain: one row
    per event. A view, read by the test marts__fct_events_matches_full_refresh.
#}
{{ cdp.event_stream() }}
