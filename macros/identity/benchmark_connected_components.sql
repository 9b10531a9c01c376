{#
    `dbt run-operation benchmark_connected_components --args '{schema: s, edges: t}'`:
    runs the identity connected-components loop on any table s.t(node_a, node_b) and logs
    one line `CC_RESULT {"rounds": ..., "jumps": ..., "seconds": ...}`. Used by
    benchmarks/identity.py to compare id orders on the same graph.
#}
{% macro benchmark_connected_components(schema, edges, output='cc_benchmark_result') %}
    {%- set edges_relation = api.Relation.create(
        database=target.database, schema=schema, identifier=edges, type='table') -%}
    {%- set output_relation = api.Relation.create(
        database=target.database, schema=schema, identifier=output, type='table') -%}
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set result = cdp.build_connected_components(edges_relation, output_relation, 'bench') -%}
    {% do adapter.commit() %}
    {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
    {{ log('CC_RESULT ' ~ tojson(
        {'rounds': result['rounds'], 'jumps': result['jumps'], 'seconds': seconds}
    ), info=true) }}
{% endmacro %}
