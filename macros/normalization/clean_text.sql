{#
    Trim whitespace (including no-break and ideographic spaces) and turn blanks and the
    usual null spellings ('null', 'None', 'N/A', 'undefined', 'nan', '-') into null.
#}
{% macro clean_text(expression) -%}
    {%- set trimmed = cdp.regexp_replace_all(
        'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')',
        "'^[\\s\u00a0\u3000]+|[\\s\u00a0\u3000]+$'",
        "''"
    ) -%}
    case
        when lower({{ trimmed }}) in ('', 'null', 'none', 'n/a', 'na', 'nan', 'undefined', '-')
            then null
        else {{ trimmed }}
    end
{%- endmacro %}
