"""dbt's Jinja namespaces for sqlfluff's jinja templater (loaded via `library_path`).

sqlfluff's `apply_dbt_builtins` stubs `ref`, `source`, `var`, `config`, `this` and `return`,
and `load_macros_from_path` loads our macros under their bare names. dbt code also calls
`cdp.<macro>()`, `adapter.dispatch()`, `dbt.<cross-database macro>()` and reads `target` and
project vars; this module provides those, so a model renders to DuckDB-shaped SQL without
dbt's parser or a warehouse connection (the dbt templater takes ~7 s to start).
`var()` returns the project's real values from dbt_project.yml (strings, lists, dicts), so
loops over a var render as in dbt. The run context is fixed: `execute` is true,
`run_started_at` is a constant UTC datetime, relations (`this`, `adapter.get_relation()`,
`api.Relation.create()`) render as their bare identifier, like sqlfluff's `ref()` stub, and
`graph` is an empty manifest.
It also gives sqlfluff's Jinja environment the syntax dbt adds to Jinja: `{% break %}` and
`{% continue %}` (dbt enables jinja2.ext.loopcontrols) and `{% materialization %}` blocks.
Everything here only renders SQL for linting: it never runs in dbt.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, ClassVar

import yaml
from jinja2 import Environment, nodes, pass_context
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.utils import missing
from sqlfluff.core.templaters.builtins.dbt import RelationEmulator

_PROJECT_FILE = Path(__file__).resolve().parents[3] / "dbt_project.yml"
_ADAPTER_TYPE = "duckdb"
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# sqlfluff re-imports this module for every file it lints: what is worth keeping between
# files (project vars, compiled macro templates) lives in one process-wide namespace.
_STATE = sys.modules.setdefault("_cdp_sqlfluff_dbt_context_state", ModuleType("state"))


def _project_vars() -> dict[str, Any]:
    cached = getattr(_STATE, "project_vars", None)
    if cached is not None:
        return cached
    try:
        project = (
            yaml.load(_PROJECT_FILE.read_text(encoding="utf-8"), Loader=_YamlLoader)
            or {}
        )
    except (OSError, yaml.YAMLError):
        project = {}
    project_vars = project.get("vars") or {}
    _STATE.project_vars = project_vars  # type: ignore[attr-defined]
    return project_vars


_VARS = _project_vars()


def var(name: str, default: Any = None) -> Any:
    """dbt's `var()`: the project's value (dbt_project.yml), else the default."""
    if name in _VARS:
        return _VARS[name]
    if default is None:
        return name
    return default


def _resolve_macro(context: Context, name: str) -> Any:
    macro = context.resolve_or_missing(name)
    if macro is missing:
        raise NameError(
            f"macro {name!r} not found in macros/ (sqlfluff library dbt_context)"
        )
    return macro


# Project macros that render a whole query rather than an expression.
_QUERY_MACROS = {
    "build_audience",
    "create_try_cast_functions",
    "customer_tag_rules",
    "customers_touched_since",
    "event_stream",
    "forgotten_people_identifiers",
    "identity_occurrences",
    "identity_records_touched_since",
    "quarantine_rows",
    "source_rows",
    "survive_attributes",
}
# Project macros that wrap a query the model passes in (and return it as it is until a
# warehouse says otherwise): they render as that query.
_WRAPPING_MACROS = {"erase_forgotten_rows"}
# Project macros that select from a relation the model names (its last CTE): they render
# as `select * from <relation>`, their default.
_SELECT_FROM_MACROS = {"upsert_rows"}
_EXPAND_MACROS = os.environ.get("CDP_SQLFLUFF_EXPAND_MACROS", "") not in ("", "0")


def _render_argument(value: Any) -> str:
    """An argument of a macro stand-in, as SQL the parser accepts.

    A string (a column, an SQL expression), a relation or a number stays as it is, and a
    list or dict of them is spread into arguments (a dict's values: SQL by source, say);
    any other value (settings such as a list of lists) becomes one string literal.
    """
    items = value.values() if isinstance(value, dict) else value
    if isinstance(value, (list, tuple, dict)) and all(map(_is_sql_text, items)):
        return _join_arguments(str(item) for item in items)
    if _is_sql_text(value):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _join_arguments(rendered: Any) -> str:
    return ", ".join(argument for argument in rendered if argument)


def _is_sql_text(value: Any) -> bool:
    return isinstance(value, (str, int, float, RelationEmulator)) and not isinstance(
        value, bool
    )


class _ProjectNamespace:
    """`cdp.<macro>(...)` for linting.

    sqlfluff lints a file's own SQL, never what a macro expands to, so a macro renders as a
    stand-in of the same shape: an expression macro as the call `<macro>(<arguments>)`, a
    query macro (_QUERY_MACROS) as `select <macro>(<arguments>) as <macro>_columns from
    <macro>`: the SQL the model passes in stays visible (a CTE used only in a macro's
    argument is used), and the result has known columns, as the macro's has (rule AM04
    follows `select *` through the CTEs to them). The full expansions (nested
    regular expressions and case expressions, ~20 kB per base model) cost sqlfluff's parser
    ~30 s a file. With CDP_SQLFLUFF_EXPAND_MACROS=1 the macros loaded from macros/
    (`load_macros_from_path`) run for real instead, to inspect their output with
    `sqlfluff render`.
    """

    unsafe_callable = False
    alters_data = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        @pass_context
        def call_macro(context: Context, *args: Any, **kwargs: Any) -> Any:
            macro = _resolve_macro(context, name)
            if _EXPAND_MACROS:
                return macro(*args, **kwargs)
            if name in _WRAPPING_MACROS:
                return str(args[0])
            if name == "decide_rejections":  # its arguments are SQL clauses, not values
                rows, keys, order_by = args
                return (f"select *, row_number() over (partition by {', '.join(keys)}"
                        f" order by {order_by}) as version_rank from {rows}")
            if name == "touched_customers_ctes":  # two CTE definitions, each with its comma
                also = kwargs.get("also") or (args[0] if args else None)
                union = f" union {also}" if also else ""
                return ("last_run as (select null as refreshed_at),\n"
                        "touched_customers as (select touched.customer_id from (select null"
                        f" as customer_id from last_run{union}) as touched),")
            if name in _SELECT_FROM_MACROS:
                return f"select * from {args[0]}"
            arguments = _join_arguments(
                _render_argument(value) for value in [*args, *kwargs.values()]
            )
            if name in _QUERY_MACROS:
                return f"select {name}({arguments}) as {name}_columns from {name}"
            return f"{name}({arguments})"

        return call_macro


class _Relation(RelationEmulator):
    """A dbt relation that renders as its identifier (as sqlfluff's `ref()` stub does)."""

    def __init__(
        self,
        identifier: str = "this_model",
        schema: str = "this_schema",
        database: str = "this_database",
    ) -> None:
        super().__init__(identifier)
        self.schema = schema
        self.database = database


class _Adapter:
    """`adapter.dispatch(name, namespace)`: the `duckdb__` implementation, else `default__`.

    `adapter.get_relation()` finds every relation (the branch dbt compiles once the
    relation exists); the statements of materializations and operations do nothing.
    """

    unsafe_callable = False
    alters_data = False
    type = _ADAPTER_TYPE

    @staticmethod
    def get_relation(database: Any, schema: Any, identifier: Any) -> _Relation:
        return _Relation(str(identifier), str(schema), str(database))

    @staticmethod
    def _no_op(*args: Any, **kwargs: Any) -> str:
        return ""

    commit = drop_relation = rename_relation = _no_op

    @staticmethod
    def quote(identifier: str) -> str:
        """`adapter.quote()` as DuckDB quotes: double quotes."""
        return '"' + str(identifier).replace('"', '""') + '"'

    def dispatch(self, macro_name: str, macro_namespace: str | None = None) -> Any:
        @pass_context
        def call_dispatched(context: Context, *args: Any, **kwargs: Any) -> Any:
            for prefix in (f"{_ADAPTER_TYPE}__", "default__"):
                macro = context.resolve_or_missing(prefix + macro_name)
                if macro is not missing:
                    return macro(*args, **kwargs)
            raise NameError(f"no implementation of {macro_name!r} in macros/")

        return call_dispatched


def _dateadd(datepart: str, interval: Any, from_date_or_timestamp: str) -> str:
    return f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"


def _listagg(
    measure: str,
    delimiter_text: str = "','",
    order_by_clause: str | None = None,
    limit_num: int | None = None,
) -> str:
    order_by = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order_by})"


# dbt's cross-database macros, as dbt-duckdb renders them.
dbt = SimpleNamespace(
    type_string=lambda: "varchar",
    type_timestamp=lambda: "timestamp",
    type_int=lambda: "integer",
    type_bigint=lambda: "bigint",
    type_numeric=lambda: "numeric(28, 6)",
    type_boolean=lambda: "boolean",
    current_timestamp=lambda: "now()",
    current_timestamp_in_utc_backcompat=lambda: "cast(now() as timestamp)",
    hash=lambda field: f"md5(cast({field} as varchar))",
    concat=lambda fields: " || ".join(fields),
    type_float=lambda: "float",
    dateadd=_dateadd,
    datediff=lambda first, second, datepart: (
        f"date_diff('{datepart}', {first}, {second})"
    ),
    date_trunc=lambda datepart, date: f"date_trunc('{datepart}', {date})",
    safe_cast=lambda field, type_: f"try_cast({field} as {type_})",
    string_literal=lambda value: f"'{value}'",
    position=lambda substring_text, string_text: (
        f"position({substring_text} in {string_text})"
    ),
    split_part=lambda string_text, delimiter_text, part_number: (
        f"split_part({string_text}, {delimiter_text}, {part_number})"
    ),
    listagg=_listagg,
)

cdp = _ProjectNamespace()
adapter = _Adapter()
target = SimpleNamespace(
    name="dev",
    type=_ADAPTER_TYPE,
    schema="main",
    database="cdp",
    threads=2,
    profile_name="cdp",
)

# dbt's run context, fixed.
execute = True
invocation_id = "00000000-0000-0000-0000-000000000000"
project_name = "cdp"
run_started_at = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
this = _Relation()
api = SimpleNamespace(
    Relation=SimpleNamespace(
        create=lambda database=None, schema=None, identifier=None, **kwargs: _Relation(
            str(identifier), str(schema), str(database)
        )
    )
)
modules = SimpleNamespace(datetime=datetime, re=re)
graph: dict[str, Any] = {
    "nodes": {},
    "sources": {},
    "exposures": {},
    "metrics": {},
    "groups": {},
    "semantic_models": {},
    "saved_queries": {},
}


class _MaterializationExtension(Extension):
    """`{% materialization name, adapter='x' %}...{% endmaterialization %}` as a macro, as in dbt."""

    tags: ClassVar[set[str]] = {"materialization"}

    def parse(self, parser: Parser) -> nodes.Macro:
        node = nodes.Macro(lineno=next(parser.stream).lineno)
        name = parser.parse_assign_target(name_only=True).name
        adapter_name = "default"
        while parser.stream.skip_if("comma"):
            argument = parser.parse_assign_target(name_only=True).name
            if parser.stream.skip_if("assign"):
                value = parser.parse_expression()
                if argument == "adapter" and isinstance(value, nodes.Const):
                    adapter_name = value.value
        node.name = f"materialization_{name}_{adapter_name}"
        node.args = []
        node.defaults = []
        node.body = parser.parse_statements(
            ("name:endmaterialization",), drop_needle=True
        )
        return node


_DBT_JINJA_EXTENSIONS = ("jinja2.ext.loopcontrols", _MaterializationExtension)


def _prepare_environment(env: Environment, compiled: dict[Any, Any]) -> Environment:
    """Add dbt's Jinja syntax and share compiled templates between files.

    sqlfluff compiles every file of macros/ four times per linted file (two passes, two
    environments): ~2 s a file. The environments are configured alike, so one compiled
    code object per template source serves them all.
    """
    if getattr(env, "has_dbt_jinja_syntax", False):
        return env
    for extension in _DBT_JINJA_EXTENSIONS:
        env.add_extension(extension)
    compile_uncached = env.compile

    def compile_cached(
        source: Any,
        name: Any = None,
        filename: Any = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if not isinstance(source, str):
            return compile_uncached(source, name, filename, raw, defer_init)
        key = (source, name, filename, raw, defer_init)
        if key not in compiled:
            compiled[key] = compile_uncached(source, name, filename, raw, defer_init)
        return compiled[key]

    env.compile = compile_cached  # type: ignore[method-assign]
    env.has_dbt_jinja_syntax = True  # type: ignore[attr-defined]
    return env


def _patch_sqlfluff_jinja_environments() -> None:
    """Apply _prepare_environment to the environment sqlfluff is building and to later ones.

    sqlfluff has no setting for Jinja extensions. It imports this library (once per file)
    while it builds the file's environment: extend that one, found in the calling frame,
    and wrap the templater's environment factory for the environments it creates later.
    Relies on JinjaTemplater._get_jinja_env of sqlfluff 4.4 (pinned in pyproject.toml).
    """
    from sqlfluff.core.templaters.jinja import JinjaTemplater
    from sqlfluff.core.templaters.slicers.tracer import (
        JinjaAnalyzer,
        JinjaTagConfiguration,
    )

    # The tracer that maps rendered SQL back to the source takes unknown tags for block
    # openers; `break` and `continue` stand alone, like `do`.
    known_tags = JinjaAnalyzer._JinjaAnalyzer__known_tag_configurations  # type: ignore[attr-defined]
    for tag in ("break", "continue"):
        known_tags.setdefault(tag, JinjaTagConfiguration(block_type="templated"))

    compiled = getattr(_STATE, "compiled_templates", None)
    if compiled is None:
        compiled = _STATE.compiled_templates = {}  # type: ignore[attr-defined]
        factory = JinjaTemplater._get_jinja_env

        def get_jinja_env_for_dbt(self: Any, config: Any = None) -> Environment:
            return _prepare_environment(factory(self, config), compiled)

        JinjaTemplater._get_jinja_env = get_jinja_env_for_dbt  # type: ignore[method-assign]

    frame = sys._getframe(1)
    while frame is not None:
        env = frame.f_locals.get("env")
        if isinstance(env, Environment):
            _prepare_environment(env, compiled)
            break
        frame = frame.f_back


_patch_sqlfluff_jinja_environments()
