"""The dbt project's SQL is sqlfluff-clean (.sqlfluff: house style, jinja templater with the
dbt context stubs of tools/sqlfluff_libs/dbt_context)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
LINTED_PATHS = ("models", "macros", "tests", "snapshots")
# sqlfluff is installed beside the interpreter running the tests (the project's venv).
SQLFLUFF = Path(sys.executable).with_name("sqlfluff")


def test_sql_is_lint_clean() -> None:
    # -p 0: one process per CPU (~40 s of CPU for the whole project).
    result = subprocess.run(
        [str(SQLFLUFF), "lint", *LINTED_PATHS, "--format", "json", "--processes", "0"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Exit code 1 means violations (listed below); anything else is sqlfluff failing.
    assert result.returncode in (0, 1), (
        f"sqlfluff exited with {result.returncode}:\n{result.stderr[-4000:]}"
    )
    files = json.loads(result.stdout)
    assert files, f"sqlfluff linted no files under {', '.join(LINTED_PATHS)}"
    violations = [
        f"{linted['filepath']}:{violation.get('start_line_no', '?')}:"
        f"{violation['code']}:{violation['description']}"
        for linted in files
        for violation in linted["violations"]
    ]
    assert not violations, (
        f"{len(violations)} sqlfluff violations (fix with `sqlfluff fix <path>`, "
        "see .sqlfluff):\n" + "\n".join(violations)
    )
