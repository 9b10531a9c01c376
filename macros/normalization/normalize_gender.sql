{#
    'male' / 'female' from the usual spellings (m, male, 男, 1, f, female, 女, 2);
    'unknown' otherwise.
#}
{% macro normalize_gender(expression) -%}
    case
        when {{ cdp.clean_text(expression) }} is null then null
        when lower({{ cdp.clean_text(expression) }}) in ('m', 'male', '男', '1', 'man')
            then 'male'
        when lower({{ cdp.clean_text(expression) }}) in ('f', 'female', '女', '2', 'woman')
            then 'female'
        else 'unknown'
    end
{%- endmacro %}
