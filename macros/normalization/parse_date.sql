{# A text date (`YYYY-MM-DD` or `YYYY/M/D`, any time part ignored) as a date; null if impossible. #}
{% macro parse_date(expression) -%}
    {%- set text = "replace(" ~ cdp.clean_text(expression) ~ ", '/', '-')" -%}
    {%- set date_part = cdp.regexp_extract(
        text, "'^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})([ T].*)?$'", 1
    ) -%}
    cast({{ cdp.try_cast_timestamp(date_part) }} as date)
{%- endmacro %}
