{#
    Lower-case, strip all whitespace; null unless it looks like local@domain.tld.
    A raw value that is present but invalid becomes null here; staging logs it in quarantine.
#}
{% macro normalize_email(expression) -%}
    {%- set stripped = 'lower(' ~ cdp.regexp_replace_all(
        'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')', "'[\\s\u00a0\u3000]+'", "''"
    ) ~ ')' -%}
    case
        when {{ cdp.regexp_matches(stripped,
            "'^[a-z0-9!#$%&*+/=?^_`{|}~.''-]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\\.[a-z]{2,}$'") }}
            and {{ stripped }} not like '%..%'
            then {{ stripped }}
    end
{%- endmacro %}
