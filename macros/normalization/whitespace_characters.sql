{#
    The characters that count as blank, spelled out for a regex bracket expression (no
    brackets): tab, newline, vertical tab, form feed, carriage return, every Unicode space
    (no-break, ideographic, em, thin...), line and paragraph separators, the zero-width space
    and the byte-order mark a spreadsheet export leaves in front of a value. Not `\s`: DuckDB
    (RE2) reads it as ASCII only, PostgreSQL by its locale (em space, vertical tab), so the
    engines would clean the same value differently.
#}
{% macro whitespace_characters() -%}
    {{ return(adapter.dispatch('whitespace_characters', 'cdp')()) }}
{%- endmacro %}

{% macro default__whitespace_characters() -%}
    {{ return(
        "\\t\\n\\v\\f\\r \u0085\u00a0\u1680\u2000-\u200b"
        ~ "\u2028\u2029\u202f\u205f\u3000\ufeff"
    ) }}
{%- endmacro %}

{#
    Spark unescapes backslashes in string literals (`'\v'` reads as `v`), so its regex
    escapes are written doubled: the pattern its (Java) regex engine gets is the same.
#}
{% macro spark__whitespace_characters() -%}
    {{ return(cdp.default__whitespace_characters() | replace('\\', '\\\\')) }}
{%- endmacro %}
