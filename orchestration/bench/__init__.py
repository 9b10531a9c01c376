"""Performance at scale: ``cdp bench`` and the scripts under ``benchmarks/``.

- ``workspace``: a scratch warehouse (DuckDB file in a work folder, or a throw-away
  PostgreSQL database) and ``dbt`` as a subprocess against it, with its peak memory;
- ``identity``: the SQL connected-components loop vs scipy on the same guarded edges;
- ``sync``: a local webhook receiver process and sync configurations for an audience;
- ``run_results``: seconds per layer and the slowest nodes of a ``dbt build``;
- ``runner``: the whole benchmark (``run_bench``), ``cli``: the ``cdp bench`` command.

Nothing here runs on import.
"""
