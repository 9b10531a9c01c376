"""dbt's Jinja namespaces for sqlfluff's jinja templater (loaded via `library_path`).

sqlfluff's `apply_dbt_builtins` stubs `ref`, `source`, `var`, `config`, `this` and `return`,
and `load_macros_from_path` loads our macros under their bare names. dbt code also calls
`cdp.<macro>()`, `adapter.dispatch()`, `dbt.<cross-database macro>()` and reads `target` and
project vars; this module provides those, so a model renders to DuckDB-shaped SQL without
dbt's parser or a warehouse connection (the dbt templater takes ~7 s to start).
It also gives sqlfluff's Jinja environment the syntax dbt adds to Jinja: `{% break %}` and
`{% continue %}` (dbt enables jinja2.ext.loopcontrols) and `{% materialization %}` blocks.
Everything here only renders SQL for linting: it never runs in dbt.
"""

from __future__ import annotations

import os
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
_QUERY_MACROS = {"quarantine_rows", "create_try_cast_functions"}
_EXPAND_MACROS = os.environ.get("CDP_SQLFLUFF_EXPAND_MACROS", "") not in ("", "0")


def _render_argument(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_render_argument(item) for item in value)
    return str(value)


class _ProjectNamespace:
    """`cdp.<macro>(...)` for linting.

    sqlfluff lints a file's own SQL, never what a macro expands to, so a macro renders as a
    stand-in of the same shape: an expression macro as the call `<macro>(<arguments>)`, a
    query macro (_QUERY_MACROS) as `select * from <macro>`. The full expansions (nested
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
            if name in _QUERY_MACROS:
                return f"select * from {name}"
            arguments = [*args, *kwargs.values()]
            return (
                f"{name}({', '.join(_render_argument(value) for value in arguments)})"
            )

        return call_macro


class _Adapter:
    """`adapter.dispatch(name, namespace)`: the `duckdb__` implementation, else `default__`."""

    unsafe_callable = False
    alters_data = False
    type = _ADAPTER_TYPE

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


# dbt's cross-database macros, as dbt-duckdb renders them.
dbt = SimpleNamespace(
    type_string=lambda: "varchar",
    type_timestamp=lambda: "timestamp",
    type_int=lambda: "integer",
    type_bigint=lambda: "bigint",
    type_numeric=lambda: "numeric(28, 6)",
    type_boolean=lambda: "boolean",
    current_timestamp=lambda: "now()",
    hash=lambda field: f"md5(cast({field} as varchar))",
    concat=lambda fields: " || ".join(fields),
    dateadd=_dateadd,
    datediff=lambda first, second, datepart: (
        f"date_diff('{datepart}', {first}, {second})"
    ),
    date_trunc=lambda datepart, date: f"date_trunc('{datepart}', {date})",
    safe_cast=lambda field, type_: f"try_cast({field} as {type_})",
    string_literal=lambda value: f"'{value}'",
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
