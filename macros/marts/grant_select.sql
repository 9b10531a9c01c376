{#
    Post-hook: let `role` read the model just built. PostgreSQL creates the role when it is
    missing (nologin; a DBA adds members) and grants usage on the schema. Two models
    finishing at once would update the same catalog rows ("tuple concurrently updated"),
    so the block takes a transaction-scoped advisory lock first: grants are serialised
    until each model's transaction commits. No-op on engines without roles here
    (DuckDB): dbt skips an empty hook.
#}
{% macro grant_select(role) -%}
    {{ return(adapter.dispatch('grant_select', 'cdp')(role)) }}
{%- endmacro %}

{% macro default__grant_select(role) -%}
{%- endmacro %}

{% macro postgres__grant_select(role) -%}
    do $grant$
    begin
        perform pg_advisory_xact_lock(hashtext('cdp.grant_select'));
        if not exists (select 1 from pg_roles where rolname = '{{ role }}') then
            create role {{ role }} nologin;
        end if;
        grant usage on schema {{ adapter.quote(this.schema) }} to {{ role }};
    end
    $grant$;
    grant select on {{ this }} to {{ role }}
{%- endmacro %}
