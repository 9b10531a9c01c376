{# raw.deletion_requests, or an empty relation of its columns when it was never loaded. #}
{% macro raw_deletion_requests() -%}
    {{ return(cdp.source_or_empty('raw', 'deletion_requests', [
        'request_id', 'identifier_type', 'identifier_value', 'requested_at'
    ])) }}
{%- endmacro %}
