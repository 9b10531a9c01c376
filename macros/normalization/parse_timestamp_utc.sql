{#
    A text timestamp as naive UTC. Values with an offset are shifted by it; values without
    one are read as wall-clock time in the source's zone (var source_time_zones, by source
    name, else its `default`). Null when empty, malformed or impossible (2023-02-30).
#}
{% macro parse_timestamp_utc(expression, source_name) -%}
    {%- set zones = var('source_time_zones', {}) -%}
    {%- set time_zone = zones.get(source_name, zones.get('default', 'UTC')) -%}
    {%- set text = "upper(replace(replace(" ~ cdp.clean_text(expression)
        ~ ", '/', '-'), 'T', ' '))" -%}
    {%- set local_part = cdp.regexp_extract(text, cdp.timestamp_pattern(), 1) -%}
    {%- set offset_part = cdp.regexp_extract(text, cdp.timestamp_pattern(), 5) -%}
    {%- set offset_minutes = "(case when substr(" ~ offset_part ~ ", 1, 1) = '-' then -1 else 1 end)"
        ~ " * (cast(substr(" ~ offset_part ~ ", 2, 2) as integer) * 60"
        ~ " + coalesce(cast(nullif(replace(substr(" ~ offset_part ~ ", 4), ':', ''), '') as integer), 0))" -%}
    case
        when {{ offset_part }} = 'Z'
            then {{ cdp.try_cast_timestamp(local_part) }}
        when {{ offset_part }} is not null
            then {{ dbt.dateadd('minute', '-1 * ' ~ offset_minutes, cdp.try_cast_timestamp(local_part)) }}
        else {{ cdp.local_to_utc(cdp.try_cast_timestamp(local_part), time_zone) }}
    end
{%- endmacro %}
