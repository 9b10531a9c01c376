{#
    The timestamp shapes staging accepts: a date `YYYY-MM-DD` (or `/`), an optional time
    `[T ]HH:MM[:SS[.fraction]]`, and an optional offset `Z`, `+08`, `+0800` or `+08:00`.
    Groups: 1 = date and time, 5 = offset.
#}
{% macro timestamp_pattern() -%}
    '^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}( [0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?) ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
{%- endmacro %}
