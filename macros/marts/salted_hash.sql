{#
    Salted SHA-256 of a normalised identifier, for joining BI data without exposing it:
    sha256(salt || ':' || value). The salt comes from env var CDP_PII_SALT (`demo-salt`
    when unset); keep it secret and identical across runs, or hashes stop matching.
    Null stays null.
#}
{% macro salted_hash(expression) -%}
    {%- set salt = env_var('CDP_PII_SALT', 'demo-salt') | replace("'", "''") -%}
    case
        when {{ expression }} is not null
            then {{ cdp.sha256("'" ~ salt ~ ":' || " ~ expression) }}
    end
{%- endmacro %}
