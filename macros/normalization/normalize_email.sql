{#
    Lower-case, strip all whitespace; null unless it looks like local@domain.tld.
    A raw value that is present but invalid becomes null here; staging logs it in quarantine.
#}
{% macro normalize_email(expression) -%}
    {%- set stripped = 'lower(' ~ cdp.regexp_replace_all(
        'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')',
        "'[" ~ cdp.whitespace_characters() ~ "]+'", "''"
    ) ~ ')' -%}
    {#- local part @ labels of letters, digits and inner hyphens, dot-separated; 2+ letter TLD -#}
    {%- set email_pattern = "'^[a-z0-9!#$%&*+/=?^_`{|}~.''-]+@"
        ~ "[a-z0-9]([a-z0-9-]*[a-z0-9])?([.][a-z0-9]([a-z0-9-]*[a-z0-9])?)*[.][a-z]{2,}$'" -%}
    case
        when {{ cdp.regexp_matches(stripped, email_pattern) }}
            and {{ stripped }} not like '%..%'
            then {{ stripped }}
    end
{%- endmacro %}
