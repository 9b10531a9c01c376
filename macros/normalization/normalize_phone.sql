{#
    E.164 phone number, or null. Separators and brackets are dropped; `00` and `+` mark an
    international number; numbers without one get the default country code
    (var default_phone_country_code, 86). Mainland China numbers must be mobiles
    (1[3-9] and 9 more digits); other countries need 8 to 15 digits in all.
    Written as one chain of replacements, each applied to the previous result, so every row
    runs each regex once (an engine evaluates a repeated subexpression each time): `#`
    marks a number whose country code is already there.
#}
{% macro normalize_phone(expression) -%}
    {%- set country = var('default_phone_country_code', '86') | string -%}
    {%- set digits_and_plus = cdp.regexp_replace_all(
        'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')', "'[^0-9+]'", "''"
    ) -%}
    {#- international: a leading + or 00 -#}
    {%- set marked = cdp.regexp_replace_all(digits_and_plus, "'^([+]|00)'", "'#'") -%}
    {#- the country code written without + or 00, on more than 11 digits -#}
    {%- set marked = cdp.regexp_replace_all(
        marked, "'^(" ~ country ~ ".{" ~ (12 - country | length) ~ ",})$'",
        "'#" ~ cdp.regexp_group_reference(1) ~ "'") -%}
    {#- national: drop the trunk 0, add the country code -#}
    {%- set marked = cdp.regexp_replace_all(marked, "'^0'", "''") -%}
    {%- set marked = cdp.regexp_replace_all(
        marked, "'^([^#])'", "'" ~ country ~ cdp.regexp_group_reference(1) ~ "'") -%}
    {%- set candidate = cdp.regexp_replace_all(marked, "'^#'", "''") -%}
    {#- valid: a mainland mobile, or 8 to 15 digits not starting with the country code 86 -#}
    {%- set valid = "861[3-9][0-9]{9}|[1-79][0-9]{7,14}|8[0-57-9][0-9]{6,13}" -%}
    '+' || {{ cdp.regexp_extract(candidate, "'^(" ~ valid ~ ")$'", 1) }}
{%- endmacro %}
