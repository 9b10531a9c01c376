{#
    The surviving value of each golden-record attribute. Grain: one row per customer and
    attribute that has at least one usable value. Rules and candidate sources are
    configuration (vars survivorship and golden_record_sources), compiled by
    macros/marts/survive_attributes.sql; dim_customers pivots this into columns.
#}
{{ config(pre_hook=[
    "{{ cdp.refresh_statistics_of([ref('customer_identifiers')]) }}",
    "{{ cdp.refresh_statistics_of([ref('identity_source_records')]) }}",
]) }}
{{ cdp.survive_attributes(var('golden_record_sources'), var('survivorship')) }}
