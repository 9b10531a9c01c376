{#
    E.164 phone -> national number with the middle masked: `+8613800138000` ->
    `138****8000`. The default country code (var default_phone_country_code) is dropped;
    other numbers keep theirs (`+4915112345678` -> `491****5678`).
#}
{% macro mask_phone(expression) -%}
    {%- set country = var('default_phone_country_code', '86') -%}
    {%- set national = "case when " ~ expression ~ " like '+" ~ country ~ "%' then substr("
        ~ expression ~ ", " ~ (country | string | length + 2) ~ ") else substr(" ~ expression
        ~ ", 2) end" -%}
    case
        when length({{ expression }}) >= 9
            then substr({{ national }}, 1, 3) || '****'
                || substr({{ national }}, length({{ national }}) - 3)
    end
{%- endmacro %}
