{#
    Before purge_forgotten_rows deletes the rows of `relation` (aliased target_rows) for
    which `condition` holds: when the rule names log_customers_to {model, column}, append
    the customers those rows hold to that model (identity_customer_touches, stamped with
    this run's start), so that the marts kept by customer recompute them.
#}
{% macro log_purged_customers(relation, rule, condition) -%}
    {%- set log = cdp.model_relation(rule.log_customers_to.model)
        if rule.get('log_customers_to') else none -%}
    {%- if log is not none -%}
        {%- do run_query(
            'insert into ' ~ log ~ ' (customer_id, touched_at) select distinct target_rows.'
            ~ rule.log_customers_to.column ~ ', ' ~ cdp.run_started_timestamp()
            ~ ' from ' ~ relation ~ ' as target_rows where ' ~ condition
        ) -%}
    {%- endif -%}
{%- endmacro %}
