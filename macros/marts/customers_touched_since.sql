{#
    The customers a customer-grain mart must recompute after its last run: a select of
    distinct customer_id. `since` is a SQL timestamp expression (the mart's last run),
    `kept` the mart's own relation ({{ this }}). A customer is touched when a record of
    theirs was resolved again since (new, staged again or moved: identity_source_records,
    resolved_at), a record left them (identity_customer_touches), or an identifier joined
    or left them or changed its bridge flag (identity_customer_registry and
    identity_identifier_changes, changed_at). When the touch log does not reach back to
    `since` (rows past its retention, or rebuilt), every customer held now or kept in the
    mart is returned.
#}
{% macro customers_touched_since(since, kept) -%}
    select touches.customer_id
    from {{ ref('identity_customer_touches') }} as touches
    where touches.touched_at > {{ since }}
    union
    select records.customer_id
    from {{ ref('identity_source_records') }} as records
    where records.resolved_at > {{ since }}
    union
    select registry.customer_id
    from {{ ref('identity_customer_registry') }} as registry
    where registry.changed_at > {{ since }}
    union
    select registry.previous_customer_id
    from {{ ref('identity_customer_registry') }} as registry
    where registry.changed_at > {{ since }}
    union
    select changes.customer_id
    from {{ ref('identity_identifier_changes') }} as changes
    where changes.changed_at > {{ since }}
    {#- the log does not reach back to the last run: everyone (the condition filters each
        branch before the union's distinct, so a covered run reads no more than a scan) #}
    {%- set not_covered = "(select count(*) from " ~ ref('identity_customer_touches')
        ~ " as markers where markers.touched_at <= " ~ since ~ ") = 0" %}
    union
    select everyone.customer_id
    from {{ ref('customer_identifiers') }} as everyone
    where {{ not_covered }}
    union
    select kept_rows.customer_id
    from {{ kept }} as kept_rows
    where {{ not_covered }}
{%- endmacro %}
