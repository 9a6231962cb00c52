"""The seams hold: the shells call only the Workspace, SQL lives only in the catalog package,
and the SQLite catalog implements every method of the catalog interface."""

import ast
import inspect
import re
from pathlib import Path

import pytest

import videoannotator
from videoannotator.catalog import base
from videoannotator.catalog.sqlite import SQLiteCatalog
from videoannotator.engines import LocalEngine, get_engine

PACKAGE = Path(videoannotator.__file__).parent
SHELLS = ("cli", "server")
# What a shell may import from the package: the facade, its settings and errors, the shared
# names, formatting helpers — and the developer tools behind `va bench` / `va eval`.
SHELL_MAY_IMPORT = {"workspace", "config", "errors", "names", "export", "cli", "server", "bench", "eval"}
SHELL_MAY_IMPORT.add("score")  # file formats of production exports (Parquet/CSV, OTIO, EDL, the timeline PNG)
SHELL_MAY_IMPORT.add("engines")  # `--engine local|ray`: the shell picks where the workers run (get_engine)
SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE|PRAGMA\s+\w)")


def _modules(*parts):
    for path in sorted((PACKAGE.joinpath(*parts)).rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def _imported(path: Path, tree: ast.AST) -> set[str]:
    """Top-level packages of videoannotator that the module imports (relative or absolute)."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = list(package[: len(package) - (node.level - 1)])
                target = base_parts + (node.module.split(".") if node.module else [])
                if len(target) == 1:  # from . import x / from .. import x
                    found |= {alias.name for alias in node.names}
                    continue
            else:
                target = (node.module or "").split(".")
            if target and target[0] == "videoannotator" and len(target) > 1:
                found.add(target[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "videoannotator" and len(parts) > 1:
                    found.add(parts[1])
    return found


@pytest.mark.parametrize("shell", SHELLS)
def test_shells_call_only_the_workspace(shell):
    wrong = {}
    for path, tree in _modules(shell):
        bad = _imported(path, tree) - SHELL_MAY_IMPORT
        if bad:
            wrong[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert not wrong, f"shell modules reaching past the Workspace: {wrong}"


def test_sql_and_sqlite_live_only_in_the_catalog_package():
    wrong = []
    for path, tree in _modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in ("catalog", "bench"):  # bench/: developer tools measuring SQLite itself
            continue
        imports_sqlite = any(
            isinstance(n, ast.Import)
            and any(a.name == "sqlite3" for a in n.names)
            or isinstance(n, ast.ImportFrom)
            and n.module == "sqlite3"
            for n in ast.walk(tree)
        )
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        docstrings = {
            ast.get_docstring(n)
            for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        }
        sql = [s for s in strings if s not in docstrings and SQL.search(s)]
        if imports_sqlite or sql:
            wrong.append(f"{rel}: {'imports sqlite3 ' if imports_sqlite else ''}{sql[:1]}")
    assert not wrong, "SQL outside catalog/: " + "; ".join(wrong)


def test_the_check_itself_finds_sql():
    assert SQL.search("SELECT c.id FROM clips") and SQL.search("INSERT INTO meta(key) VALUES (?)")
    assert not SQL.search("select the clips you want") and not SQL.search("Update the label")


PROTOCOLS = {
    "Catalog": (base.Catalog, SQLiteCatalog),
    "Videos": (base.Videos, None),
    "Labels": (base.Labels, None),
    "Annotations": (base.Annotations, None),
    "ModelVersions": (base.ModelVersions, None),
    "ClipLookup": (base.ClipLookup, None),
    "Deployments": (base.Deployments, None),
    "ScoreBatches": (base.ScoreBatches, None),
}


def _implementation(name, tmp_path):
    catalog = SQLiteCatalog(tmp_path / "catalog.sqlite", tmp_path / "models")
    return {
        "Catalog": catalog,
        "Videos": catalog.videos,
        "Labels": catalog.labels,
        "Annotations": catalog.annotations,
        "ModelVersions": catalog.models,
        "ClipLookup": catalog.lookup(),
        "Deployments": catalog.deployments,
        "ScoreBatches": catalog.batches,
    }[name]


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_the_sqlite_catalog_implements_the_interface(name, tmp_path):
    protocol = PROTOCOLS[name][0]
    impl = _implementation(name, tmp_path)
    members = [m for m in protocol.__dict__ if not m.startswith("_")]
    members += list(getattr(protocol, "__annotations__", {}))
    assert members
    for member in members:
        assert hasattr(impl, member), f"{type(impl).__name__} lacks {member}"
        wanted = getattr(protocol, member, None)
        if inspect.isfunction(wanted):
            want = [p for p in inspect.signature(wanted).parameters if p != "self"]
            have = list(inspect.signature(getattr(impl, member)).parameters)
            assert have[: len(want)] == want, f"{type(impl).__name__}.{member}{have} does not take {want}"


def test_the_local_engine_returns_results_and_errors_in_order():
    def work(n):
        if n == 2:
            raise ValueError("bad job")
        return n * 10

    results = list(get_engine("local").map(work, [1, 2, 3]))
    assert [r.job for r in results] == [1, 2, 3]
    assert [r.value for r in results] == [10, None, 30] and str(results[1].error) == "bad job"
    assert isinstance(get_engine(), LocalEngine)
    with pytest.raises(ValueError, match="unknown engine"):
        get_engine("spark")


def test_the_import_scan_sees_relative_and_absolute_imports():
    path = PACKAGE / "workspace.py"
    found = _imported(path, ast.parse(path.read_text()))
    assert {"catalog", "vectors", "config", "errors"} <= found  # `from .catalog import ...` and friends
    assert "loop" in found  # `from .loop.search import search`, inside a method
