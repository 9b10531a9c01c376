{#
    The customer of every staged record that carries an assigned identifier. Grain: one
    row per source record. When a record's identifiers belong to different customers (a
    split), the first usable one in var identity_type_priority decides; identifiers kept
    only on a profile (over their bridge limit) decide last.

    Incremental by record (delete+insert on source_name, source_key): a run resolves again
    only the records touched since its last run (max resolved_at): those staged again
    (identity_identifier_occurrences.staged_at) and those carrying an identifier whose
    customer changed (identity_identifier_changes.changed_at), merges and splits alike.
    A touched record left without a usable identifier comes out without a customer and
    the post-hook deletes it. What only --full-refresh fixes: a record staged again
    without any identifier at all keeps its last customer; a change to var
    identity_type_priority. On Spark (parquet tables cannot delete rows) a table.
#}
-- depends_on: {{ ref('identity_identifier_changes') }}
-- depends_on: {{ ref('identity_customer_touches') }}
{%- set priority = var('identity_type_priority') %}
{%- set incremental = target.type != 'spark' %}

{{ config(
    materialized='incremental' if incremental else 'table',
    incremental_strategy='delete+insert',
    unique_key=['source_name', 'source_key'],
    on_schema_change='fail',
    post_hook=["delete from {{ this }} where customer_id is null"] if incremental else [],
    indexes=[
        {'columns': ['source_name', 'source_key'], 'unique': true},
    ] if target.type == 'postgres' else [],
) }}

with
{%- if is_incremental() %}

    last_run as (
        select
            coalesce(
                max(resolved_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})
            ) as resolved_at
        from {{ this }}
    ),

    touched_records as (
        {{ cdp.identity_records_touched_since('(select last_run.resolved_at from last_run)') }}
    ),
{%- endif %}

occurrences as (
    select
        occurrences.source_name,
        occurrences.source_key,
        occurrences.node_id,
        occurrences.identifier_type
    from {{ ref('identity_identifier_occurrences') }} as occurrences
    {%- if is_incremental() %}
    inner join touched_records
        on occurrences.source_name = touched_records.source_name
            and occurrences.source_key = touched_records.source_key
    {%- endif %}
    where not occurrences.is_blocklisted
),

customer_identifiers as (
    select
        node_id,
        customer_id,
        is_bridge_excluded
    from {{ ref('customer_identifiers') }}
),

candidates_keyed as (
    {#- the window's order (excluded last, type priority, customer_id) as one sortable text:
        the smallest per record wins; chr(1) ends the customer id, so shorter ids sort first #}
    select
        occurrences.source_name,
        occurrences.source_key,
        case when customer_identifiers.is_bridge_excluded then '1' else '0' end
        || lpad(cast(
            case occurrences.identifier_type
                {%- for identifier_type in priority %}
                    when '{{ identifier_type }}' then {{ loop.index }}
                {%- endfor %}
                else {{ priority | length + 1 }}
            end as {{ dbt.type_string() }}
        ), 3, '0')
        || customer_identifiers.customer_id || chr(1) || occurrences.identifier_type
            as candidate_key
    from occurrences
    inner join customer_identifiers on occurrences.node_id = customer_identifiers.node_id
),

records_best as (
    {#- a record's best candidate by aggregation: a window ranking every candidate sorted
        20M rows at 1M people (67 s of 80) #}
    select
        source_name,
        source_key,
        substr(min(candidate_key), 5) as best_candidate
    from candidates_keyed
    group by source_name, source_key
),

records_resolved as (
    select
        source_name,
        source_key,
        {{ dbt.split_part('best_candidate', 'chr(1)', 1) }} as customer_id,
        {{ dbt.split_part('best_candidate', 'chr(1)', 2) }} as matched_identifier_type,
        {{ cdp.run_started_timestamp() }} as resolved_at
    from records_best
),
{%- if is_incremental() %}

    records_written as (
        {#- every touched record: those without a customer now are deleted by the post-hook #}
        select
            touched_records.source_name,
            touched_records.source_key,
            records_resolved.customer_id,
            records_resolved.matched_identifier_type,
            {{ cdp.run_started_timestamp() }} as resolved_at
        from touched_records
        left outer join records_resolved
            on touched_records.source_name = records_resolved.source_name
                and touched_records.source_key = records_resolved.source_key
    )
{%- else %}

    records_written as (
        select * from records_resolved
    )
{%- endif %}

select * from records_written
