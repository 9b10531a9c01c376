{#
    The time-window predicate of one event source for cdp.event_stream: `<column> >= <lower
    bound>` when `since` names the source, else a predicate that always holds.
#}
{% macro event_window(since, source_name, column) -%}
    {%- if since.get(source_name) -%}
        {{ column }} >= {{ since[source_name] }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
