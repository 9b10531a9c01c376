{#
    Trim whitespace (whitespace_characters: every Unicode space, zero-width space, BOM) and
    turn blanks and the usual null spellings ('null', 'None', 'N/A', 'undefined', 'nan',
    '-') into null.
#}
{% macro clean_text(expression) -%}
    {%- set blank = cdp.whitespace_characters() -%}
    {%- set trimmed = cdp.regexp_replace_all(
        'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')',
        "'^[" ~ blank ~ "]+|[" ~ blank ~ "]+$'",
        "''"
    ) -%}
    case
        when lower({{ trimmed }}) in ('', 'null', 'none', 'n/a', 'na', 'nan', 'undefined', '-')
            then null
        else {{ trimmed }}
    end
{%- endmacro %}
