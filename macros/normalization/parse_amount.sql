{#
    Money written as text: drops spaces, thousands separators and currency marks
    (¥ ￥ $ CNY RMB), then casts to decimal(18, 2). Null when empty, not a number, or
    longer than 15 digits before the point (decimal(18, 2) holds 16, and rounding to cents
    can add one): a longer value would make the cast, and so the whole model, fail
    instead of the row being rejected.
#}
{% macro parse_amount(expression) -%}
    {%- set stripped = cdp.regexp_replace_all(
        cdp.clean_text(expression),
        "'[" ~ cdp.whitespace_characters() ~ ",¥￥$]|CNY|RMB|cny|rmb'",
        "''"
    ) -%}
    {{ cdp.try_cast_decimal(cdp.regexp_extract(stripped, "'^(-?[0-9]{1,15}([.][0-9]+)?)$'", 1)) }}
{%- endmacro %}
