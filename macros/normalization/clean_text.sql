{#
    Trim whitespace (whitespace_characters: every Unicode space, zero-width space, BOM) and
    turn blanks and the usual null spellings ('null', 'None', 'N/A', 'undefined', 'nan',
    '-') into null. The trimming regex runs only on values that begin or end with a blank
    (has_blank_edge), a few in a hundred: on the rest it was the bulk of staging's cost.
#}
{% macro clean_text(expression) -%}
    {%- set text = 'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')' -%}
    {%- set trimmed = cdp.trim_blanks_regex(text) -%}
    {#- first: empty, or spaces only (common in exports), settled without the regex #}
    case
        when trim({{ text }}) = '' then null
        when {{ cdp.has_blank_edge(text) }}
            then case when not {{ cdp.is_null_spelling(trimmed) }} then {{ trimmed }} end
        when not {{ cdp.is_null_spelling(text) }} then {{ text }}
    end
{%- endmacro %}

{# `text` without the blanks (whitespace_characters) at either end. #}
{% macro trim_blanks_regex(text) -%}
    {%- set blank = cdp.whitespace_characters() -%}
    {{ cdp.regexp_replace_all(text, "'^[" ~ blank ~ "]+|[" ~ blank ~ "]+$'", "''") }}
{%- endmacro %}

{#
    True when the text is blank or one of the usual null spellings, in any case; null for
    null text.
#}
{% macro is_null_spelling(text) -%}
    {{ return(adapter.dispatch('is_null_spelling', 'cdp')(text)) }}
{%- endmacro %}

{% macro default__is_null_spelling(text) -%}
    (lower({{ text }}) in ('', 'null', 'none', 'n/a', 'na', 'nan', 'undefined', '-'))
{%- endmacro %}

{#
    DuckDB plans an IN list (and list_contains of a constant list) as a join computed on
    every row, even inside a CASE branch that applies to few: comparisons instead, after a
    length test that settles most values (ids, URLs) at once.
#}
{% macro duckdb__is_null_spelling(text) -%}
    {%- set spellings = ['', 'null', 'none', 'n/a', 'na', 'nan', 'undefined', '-'] -%}
    {%- set comparisons = [] -%}
    {%- for spelling in spellings -%}
        {%- do comparisons.append('lower(' ~ text ~ ") = '" ~ spelling ~ "'") -%}
    {%- endfor -%}
    (length({{ text }}) <= 9 and ({{ comparisons | join(' or ') }}))
{%- endmacro %}
