{#
    Lower-case, strip all whitespace; null unless it looks like local@domain.tld with no
    `..`. The value is computed once: a `..` is turned into a space, which the pattern
    rejects, and the pattern's match is the result (engines evaluate a repeated
    subexpression each time).
#}
{% macro normalize_email(expression) -%}
    {%- set stripped = 'lower(' ~ cdp.regexp_replace_all(
        'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')',
        "'[" ~ cdp.whitespace_characters() ~ "]+'", "''"
    ) ~ ')' -%}
    {#- local part @ labels of letters, digits and inner hyphens, dot-separated; 2+ letter TLD -#}
    {%- set email_pattern = "'^([a-z0-9!#$%&*+/=?^_`{|}~.''-]+@"
        ~ "[a-z0-9]([a-z0-9-]*[a-z0-9])?([.][a-z0-9]([a-z0-9-]*[a-z0-9])?)*[.][a-z]{2,})$'" -%}
    {{ cdp.regexp_extract("replace(" ~ stripped ~ ", '..', ' ')", email_pattern, 1) }}
{%- endmacro %}
