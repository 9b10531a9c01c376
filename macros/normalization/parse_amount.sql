{#
    Money written as text: drops spaces, thousands separators and currency marks
    (¥ ￥ $ CNY RMB), then casts to decimal(18, 2). Null when empty or not a number.
#}
{% macro parse_amount(expression) -%}
    {%- set stripped = cdp.regexp_replace_all(
        cdp.clean_text(expression), "'[\\s,¥￥$]|CNY|RMB|cny|rmb'", "''"
    ) -%}
    case
        when {{ cdp.regexp_matches(stripped, "'^-?[0-9]+(\\.[0-9]+)?$'") }}
            then {{ cdp.try_cast_decimal(stripped) }}
    end
{%- endmacro %}
