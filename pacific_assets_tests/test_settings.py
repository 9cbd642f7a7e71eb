"""One settings module reads the environment; the configured DuckDB limits reach every compute
connection (docs/ARCHITECTURE.md "Configuration")."""

from __future__ import annotations

import ast
import re
import threading
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import pacific_assets
from pacific_assets import settings
from pacific_assets.orchestration import lineage
from pacific_assets.resources import lake_resource_from_env
from pacific_assets.staging.assets import STAGING_ASSETS
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.staging.conftest import VALID_FILES, write_landing

PACKAGE = Path(pacific_assets.__file__).parent
SETTINGS_MODULE = PACKAGE / "settings.py"
#: Development tools, not the code location (issue 29 moves them out of the package); they may
#: read their own variables.
TOOLS = ("simulate/", "replay/", "demo.py")
_NAME = re.compile(r"PACIFIC_[A-Z0-9_]+")


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef))]
    return {
        id(n.body[0].value)
        for n in nodes
        if n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)
    }


def _environ_reads(tree: ast.Module) -> list[tuple[int, str]]:
    """Reads of ``os.environ`` / ``os.getenv`` whose variable is not a literal non-PACIFIC name
    (a computed name may be any variable, so it counts)."""
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    found = []
    for node in ast.walk(tree):
        is_environ = isinstance(node, ast.Attribute) and node.attr == "environ"
        is_getenv = isinstance(node, ast.Attribute) and node.attr == "getenv"
        if not (is_environ or is_getenv):
            continue
        parent = parents.get(id(node))
        key: ast.AST | None = None
        if isinstance(parent, ast.Subscript) and parent.value is node:
            if isinstance(parents.get(id(parent)), ast.Assign | ast.Delete):
                continue  # setting the environment (for a child process) is not reading it
            key = parent.slice
        elif isinstance(parent, ast.Attribute) and isinstance(parents.get(id(parent)), ast.Call):
            args = parents[id(parent)].args  # os.environ.get(...) / .setdefault / .pop
            key = args[0] if args else None
        elif isinstance(parent, ast.Call) and is_getenv:
            key = parent.args[0] if parent.args else None
        literal = isinstance(key, ast.Constant) and isinstance(key.value, str)
        if not literal or key.value.startswith("PACIFIC_"):  # type: ignore[union-attr]
            found.append((node.lineno, ast.unparse(parent or node)))
    return found


def _offences(path: Path, package: Path = PACKAGE) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    docstrings = _docstrings(tree)
    where = path.relative_to(package.parent)
    out = [f"{where}:{line}: reads the environment: {text}" for line, text in _environ_reads(tree)]
    out += [
        f"{where}:{node.lineno}: spells the variable {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _NAME.fullmatch(node.value)
        and id(node) not in docstrings
    ]
    return out


def test_only_the_settings_module_reads_pacific_variables() -> None:
    """(Fails if ``resources.lake_resource_from_env`` reads ``PACIFIC_DUCKDB_THREADS`` itself.)"""
    modules = [
        p
        for p in sorted(PACKAGE.rglob("*.py"))
        if p != SETTINGS_MODULE and not str(p.relative_to(PACKAGE)).startswith(TOOLS)
    ]
    assert len(modules) > 50, "the scan must see the package"
    offences = [o for p in modules for o in _offences(p)]
    assert not offences, "read PACIFIC_* settings through pacific_assets.settings:\n" + "\n".join(
        offences
    )


def test_the_scan_sees_every_kind_of_read(tmp_path: Path) -> None:
    """The scan above cannot pass by looking at nothing: each way of reading is caught."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os\n"
        "A = os.environ.get('PACIFIC_X', '1')\n"
        "B = os.environ['PACIFIC_Y']\n"
        "C = os.getenv(NAME)\n"
        "D = dict(os.environ)\n"
        "E = os.environ.get('DAGSTER_HOME')\n"  # not ours: allowed
        "os.environ['PACIFIC_Z'] = '1'\n"  # a write: allowed
        "F = 'PACIFIC_W'\n"
    )
    text = "\n".join(_offences(probe, package=tmp_path))
    for name in ("PACIFIC_X", "PACIFIC_Y", "os.getenv(NAME)", "dict(os.environ)", "'PACIFIC_W'"):
        assert name in text, text
    assert "DAGSTER_HOME" not in text and "py:7: reads" not in text, text


def test_every_variable_is_documented_in_the_readme() -> None:
    """README.md "Configuration" names each variable (a Kafka or Spark one by its suffix)."""
    readme = (PACKAGE.parent / "README.md").read_text()
    names = [v.name for v in settings.VARIABLES if v.name.startswith("PACIFIC_")]
    missing = [
        n
        for n in names
        if f"`{n}`" not in readme
        and f"`{n.removeprefix('PACIFIC_KAFKA').removeprefix('PACIFIC_SPARK')}`" not in readme
    ]
    assert not missing, f"README.md 'Configuration' lacks {missing}"


def test_secrets_are_never_defaulted_nor_held() -> None:
    secrets = {v.name for v in settings.VARIABLES if v.secret}
    assert secrets >= {settings.SLACK_WEBHOOK_URL, settings.PSEUDONYM_KEY}
    assert all(settings.DEFAULTS[name] is None for name in secrets)
    loaded = settings.load(dict.fromkeys(secrets, "s3cr3t-value"))
    assert "s3cr3t-value" not in repr(loaded)
    assert loaded.slack_webhook_set and loaded.pseudonym_key_set


# -- the configured DuckDB limits reach every compute connection -------------------------------
def test_a_configured_memory_limit_reaches_every_compute_connection(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Fails if staging's whole-table duplicate check opens ``connect(memory_limit="1GB")``.)"""
    monkeypatch.setenv(settings.DATA_ROOT, str(lake.root))
    monkeypatch.setenv(settings.DUCKDB_MEMORY_LIMIT, "123MB")
    monkeypatch.setenv(settings.DUCKDB_THREADS, "1")
    monkeypatch.setattr(lineage, "_local", threading.local())  # its per-thread one too
    with duckdb.connect(config={"memory_limit": "123MB"}) as probe:
        expected = probe.execute("SELECT current_setting('memory_limit')").fetchone()

    opened: list[tuple] = []
    real_connect = duckdb.connect

    def spy(database: str = ":memory:", *args, **kwargs):
        con = real_connect(database, *args, **kwargs)
        if str(database) in ("", ":memory:"):  # compute; a file database is the catalog
            opened.append(
                con.execute(
                    "SELECT current_setting('memory_limit'), current_setting('threads')"
                ).fetchone()
            )
        return con

    monkeypatch.setattr(duckdb, "connect", spy)
    for name in ("account_events", "experiment_registry"):  # whole-table unique keys
        write_landing(lake, *VALID_FILES[name])
    assets = {a.key.to_user_string(): a for a in STAGING_ASSETS}
    with dg.instance_for_test() as instance:
        for name, key in (("stg_account_events", "2025-09-01"), ("stg_experiment_registry", None)):
            result = dg.materialize(
                [assets[name]],
                partition_key=key,
                resources={"lake": lake_resource_from_env()},
                instance=instance,
            )
            assert result.success
    assert len(opened) >= 3, opened  # two duplicate checks and lineage's digests at least
    assert set(opened) == {(expected[0], 1)}, opened
