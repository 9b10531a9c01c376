{#
    A text timestamp as naive UTC. Values with an offset (Z, +08, +0800, +08:00) are
    converted by the engine's own offset-aware cast; values without one are read as
    wall-clock time in the source's zone (var source_time_zones, by source name, else its
    `default`). Accepted shapes: a date `YYYY-MM-DD` (or `/`), an optional time
    `[T ]HH:MM[:SS[.fraction]]`, and an optional offset `Z`, `+08`, `+0800` or `+08:00`;
    words like 'now' that some engines cast are not. Null when empty, of another shape or
    impossible (2023-02-30).
    This macro is applied to every event row: the text is built twice and matched by two
    regexes, one per shape, whose match is the value cast (an engine evaluates a repeated
    subexpression each time, so a regex test followed by a cast of the same text would
    cost double).
#}
{% macro parse_timestamp_utc(expression, source_name) -%}
    {%- set zones = var('source_time_zones', {}) -%}
    {%- set time_zone = zones.get(source_name, zones.get('default', 'UTC')) -%}
    {%- set text = "replace(replace(upper(trim(cast(" ~ expression ~ " as " ~ dbt.type_string()
        ~ "))), '/', '-'), 'T', ' ')" -%}
    {%- set date = "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}" -%}
    {%- set time = " [0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?" -%}
    {%- set offset = "(Z|[+-][0-9]{2}(:?[0-9]{2})?)" -%}
    {#- a time with an offset: the offset says the zone -#}
    {%- set with_offset = cdp.regexp_extract(
        text, "'^(" ~ date ~ time ~ " ?" ~ offset ~ ")$'", 1) -%}
    {#- no time zone (or one given on a bare date, which casts ignore): the source's zone -#}
    {%- set local = cdp.regexp_extract(
        text, "'^(" ~ date ~ "(" ~ time ~ ")?|" ~ date ~ " ?" ~ offset ~ ")$'", 1) -%}
    coalesce(
        {{ cdp.try_cast_timestamp_with_offset_to_utc(with_offset) }},
        {{ cdp.local_to_utc(cdp.try_cast_timestamp(local), time_zone) }}
    )
{%- endmacro %}
