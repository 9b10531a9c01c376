{#
    The per-type limit from a var dict such as identity_bridge_limits
    ({default: 1, device_id: 2}) for the identifier type in `type_column`, as SQL.
#}
{#
-- sqlfluff:exclude_rules:layout.indent
    For sqlfluff (which reads the line above): the SQL of this macro is text to it, so it
    would indent the Jinja tags by Jinja nesting alone, against the SQL's indentation.
#}
{% macro identity_limit_for_type(var_name, type_column) -%}
    {%- set limits = var(var_name) -%}
    {%- set overrides = [] -%}
    {%- for identifier_type, limit in limits.items() if identifier_type != 'default' -%}
        {%- do overrides.append([identifier_type, limit]) -%}
    {%- endfor -%}
    {%- if overrides -%}
    case {{ type_column }}
        {%- for identifier_type, limit in overrides %}
        when '{{ identifier_type }}' then {{ limit }}
        {%- endfor %}
        else {{ limits.get('default', 1) }}
    end
    {%- else -%}
    {{ limits.get('default', 1) }}
    {%- endif -%}
{%- endmacro %}
