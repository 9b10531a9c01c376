{#
    True when the text `text` is empty (its first character is then the empty
    text, found in any text) or its first or last character is a blank (one of
    whitespace_characters): the values clean_text must run its trimming regex on. Null text
    gives null.
#}
{% macro has_blank_edge(text) -%}
    {{ return(adapter.dispatch('has_blank_edge', 'cdp')(text)) }}
{%- endmacro %}

{% macro default__has_blank_edge(text) -%}
    {%- set blanks = cdp.blank_characters_literal() -%}
    (position(left({{ text }}, 1) in {{ blanks }}) > 0
        or position(right({{ text }}, 1) in {{ blanks }}) > 0)
{%- endmacro %}

{# DuckDB: indexing a string by character is several times cheaper than left/right. #}
{% macro duckdb__has_blank_edge(text) -%}
    {%- set blanks = cdp.blank_characters_literal() -%}
    (strpos({{ blanks }}, ({{ text }})[1]) > 0 or strpos({{ blanks }}, ({{ text }})[-1]) > 0)
{%- endmacro %}

{# Spark's chr() stops at 255: every value goes through the regex. #}
{% macro spark__has_blank_edge(text) -%}
    ({{ text }} is not null)
{%- endmacro %}

{#
    The blank characters (whitespace_characters, ranges spelled out) as a SQL text
    expression, built with chr() so the SQL stays printable ASCII; engines fold it once.
#}
{% macro blank_characters_literal() -%}
    {%- set codes = [9, 10, 11, 12, 13, 32, 133, 160, 5760] + range(8192, 8204) | list
        + [8232, 8233, 8239, 8287, 12288, 65279] -%}
    ({% for code in codes %}chr({{ code }}){% if not loop.last %} || {% endif %}{% endfor %})
{%- endmacro %}
