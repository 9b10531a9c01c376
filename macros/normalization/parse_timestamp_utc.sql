{#
    A text timestamp as naive UTC. Values with an offset (Z, +08, +0800, +08:00) are
    converted by the engine's own offset-aware cast; values without one are read as
    wall-clock time in the source's zone (var source_time_zones, by source name, else its
    `default`). Null when empty, not of the accepted shape (see timestamp_pattern, which
    also keeps out words like 'now' that some engines cast) or impossible (2023-02-30).
    The text is built from cheap functions and matched by two regexes only: this macro is
    applied to every event row.
#}
{% macro parse_timestamp_utc(expression, source_name) -%}
    {%- set zones = var('source_time_zones', {}) -%}
    {%- set time_zone = zones.get(source_name, zones.get('default', 'UTC')) -%}
    {%- set text = "replace(replace(upper(trim(cast(" ~ expression ~ " as " ~ dbt.type_string()
        ~ "))), '/', '-'), 'T', ' ')" -%}
    case
        when {{ cdp.regexp_matches(text, cdp.timestamp_pattern()) }}
            then case
                when {{ cdp.regexp_matches(text, "':[0-9]{2}([.][0-9]+)? ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$'") }}
                    then {{ cdp.try_cast_timestamp_with_offset_to_utc(text) }}
                else {{ cdp.local_to_utc(cdp.try_cast_timestamp(text), time_zone) }}
            end
    end
{%- endmacro %}
