{#
    The identity key of an identifier given with its type, as the staging models normalise
    it: email and phone by their rules, every other type cleaned (trimmed, null spellings
    dropped). `type_expression` must already be lower-case and trimmed.
#}
{% macro normalize_identifier(type_expression, value_expression) -%}
    case {{ type_expression }}
        when 'email' then {{ cdp.normalize_email(value_expression) }}
        when 'phone' then {{ cdp.normalize_phone(value_expression) }}
        else {{ cdp.clean_text(value_expression) }}
    end
{%- endmacro %}
