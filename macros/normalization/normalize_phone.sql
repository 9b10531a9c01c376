{#
    E.164 phone number, or null. Separators and brackets are dropped; `00` and `+` mark an
    international number; numbers without one get the default country code
    (var default_phone_country_code, 86). Mainland China numbers must be mobiles
    (1[3-9] and 9 more digits); other countries need 8 to 15 digits in all.
#}
{% macro normalize_phone(expression) -%}
    {%- set country = var('default_phone_country_code', '86') -%}
    {%- set digits_and_plus = cdp.regexp_replace_all(
        'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')', "'[^0-9+]'", "''"
    ) -%}
    {%- set international = "case when " ~ digits_and_plus ~ " like '+%' then substr("
        ~ digits_and_plus ~ ", 2) when " ~ digits_and_plus ~ " like '00%' then substr("
        ~ digits_and_plus ~ ", 3) end" -%}
    {%- set national = "case when " ~ digits_and_plus ~ " like '+%' or " ~ digits_and_plus
        ~ " like '00%' then null when " ~ digits_and_plus ~ " like '" ~ country
        ~ "%' and length(" ~ digits_and_plus ~ ") > 11 then " ~ digits_and_plus
        ~ " else '" ~ country ~ "' || " ~ cdp.regexp_replace_all(digits_and_plus, "'^0'", "''")
        ~ " end" -%}
    {%- set candidate = "coalesce(" ~ international ~ ", " ~ national ~ ")" -%}
    case
        when {{ cdp.regexp_matches(candidate, "'^86'") }}
            then case
                when {{ cdp.regexp_matches(candidate, "'^861[3-9][0-9]{9}$'") }}
                    then '+' || {{ candidate }}
            end
        when {{ cdp.regexp_matches(candidate, "'^[1-9][0-9]{7,14}$'") }}
            then '+' || {{ candidate }}
    end
{%- endmacro %}
