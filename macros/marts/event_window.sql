{#
    The filter of one event source for cdp.event_stream. Without a lower bound for the
    source: a predicate that always holds. With one: `<column> >= <lower bound>`, and, when
    `loaded` names the relation already holding events (fct_events itself), also every
    older event whose id is not in it yet (late data from before the window).
#}
{% macro event_window(since, source_name, column, event_id=none, loaded=none) -%}
    {%- if since.get(source_name) and loaded is not none and event_id is not none -%}
        (
            {{ column }} >= {{ since[source_name] }}
            or not exists (
                select 1 from {{ loaded }} as loaded_events
                where loaded_events.event_id = {{ event_id }}
            )
        )
    {%- elif since.get(source_name) -%}
        {{ column }} >= {{ since[source_name] }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
