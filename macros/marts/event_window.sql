{#
    The filter of one event source for cdp.event_stream. Without a lower bound for the
    source: a predicate that always holds. With one: `<column> >= <lower bound>`, and, when
    `loaded` names the relation already holding events (fct_events itself), also every
    older event not loaded yet (late data from before the window), found one of two ways:

    - `staged_at` (the branch's staged_at column) and `staged_since` (when the loaded
      relation last ran) given: the events staged after it, whatever their time. A staging
      run stamps every row it writes (new rows, and kept versions it re-ranked), so this
      is a filter on the source's own rows: no look at the loaded events at all. Strictly
      after: rows staged by the invocation that last ran the loaded relation carry its
      very stamp, and were read by it (staging runs first).
    - otherwise one anti-join: "no loaded row of this source has this event_id while the
      event is older than the window". Spelled as `in the window or not loaded`, the `or`
      around a correlated subquery makes DuckDB de-correlate it into a distinct pass, a
      join and a mark join over every event of the source (3x the work).
    coalesce(..., true): an event without a time counts as old, as `>=` would leave it.
#}
{% macro event_window(
    since, source_name, column, event_id=none, loaded=none, staged_at=none, staged_since=none
) -%}
    {%- if since.get(source_name) and loaded is not none and staged_at is not none
        and staged_since is not none -%}
        (
            coalesce({{ column }} >= {{ since[source_name] }}, false)
            or {{ staged_at }} > {{ staged_since }}
        )
    {%- elif since.get(source_name) and loaded is not none and event_id is not none -%}
        not exists (
            select 1 from {{ loaded }} as loaded_events
            where loaded_events.source_name = '{{ source_name }}'
                and loaded_events.event_id = {{ event_id }}
                and coalesce({{ column }} < {{ since[source_name] }}, true)
        )
    {%- elif since.get(source_name) -%}
        {{ column }} >= {{ since[source_name] }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
