{#
    The surviving value of each golden-record attribute. Grain: one row per customer and
    attribute that has at least one usable value. Rules and candidate sources are
    configuration (vars survivorship and golden_record_sources), compiled by
    macros/marts/survive_attributes.sql; dim_customers pivots this into columns.

    Incremental by customer (delete+insert on customer_id): a run recomputes only the
    customers touched since its last run (max refreshed_at; macro customers_touched_since);
    a touched customer left without any value gets a row without attribute, so that
    delete+insert removes their old rows, and the post-hook deletes it. A change of var
    survivorship or golden_record_sources needs --full-refresh. On Spark a table.
#}
-- depends_on: {{ ref('identity_customer_touches') }}
-- depends_on: {{ ref('identity_customer_registry') }}
-- depends_on: {{ ref('identity_identifier_changes') }}
{%- set incremental = target.type != 'spark' %}
{%- set refreshed_at = cdp.run_started_timestamp() %}

{{ config(
    materialized='incremental' if incremental else 'table',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
    pre_hook=[
        "{{ cdp.refresh_statistics_of([ref('customer_identifiers')]) }}",
        "{{ cdp.refresh_statistics_of([ref('identity_source_records')]) }}",
    ],
    post_hook=["delete from {{ this }} where attribute is null"] if incremental else [],
    indexes=[{'columns': ['customer_id']}] if target.type == 'postgres' else [],
) }}

with
{%- if is_incremental() %}

    {{ cdp.touched_customers_ctes() }}
{%- endif %}

survived as (
    {{ cdp.survive_attributes(
        var('golden_record_sources'), var('survivorship'),
        customers='touched_customers' if is_incremental() else none,
    ) }}
),

rows_written as (
    select
        customer_id,
        attribute,
        attribute_value,
        source_name,
        source_seen_at,
        records_count,
        candidate_values_count,
        {{ refreshed_at }} as refreshed_at
    from survived
    {%- if is_incremental() %}
        union all
        select
            touched_customers.customer_id,
            cast(null as {{ dbt.type_string() }}) as attribute,  -- noqa: RF04
            cast(null as {{ dbt.type_string() }}) as attribute_value,
            cast(null as {{ dbt.type_string() }}) as source_name,
            cast(null as {{ dbt.type_timestamp() }}) as source_seen_at,
            cast(null as {{ dbt.type_bigint() }}) as records_count,
            cast(null as {{ dbt.type_bigint() }}) as candidate_values_count,
            {{ refreshed_at }} as refreshed_at
        from touched_customers
        where not exists (
                select 1
                from survived
                where survived.customer_id = touched_customers.customer_id
            )
    {%- endif %}
)

select * from rows_written
