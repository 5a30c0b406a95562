"""The layout is the architecture: only `processor/stream/` and `processor/devtools/` talk to
Kafka, and the offline CMS tooling is never needed to scrub a claim."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "processor"
KAFKA_LIBRARIES = ("faust", "aiokafka", "kafka", "mode")
KAFKA_EDGE = ("stream", "devtools")


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at any depth (a function-level import counts too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(exclude: tuple[str, ...] = ()) -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in exclude
    ]


def _top(name: str) -> str:
    return name.split(".")[0]


def test_only_the_kafka_edge_imports_kafka_libraries():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            n for n in _imports(path) if _top(n) in KAFKA_LIBRARIES
        )
        for path in _modules(exclude=KAFKA_EDGE)
    }
    offenders = {path: names for path, names in offenders.items() if names}
    # The CLI starts the worker and the tooling: it may name them, but only through
    # processor.stream / processor.devtools, never the libraries themselves.
    assert offenders == {}, f"Kafka libraries imported outside stream/ and devtools/: {offenders}"


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import faust.web\n    from aiokafka import X\n")
    assert {_top(n) for n in _imports(module)} == {"faust", "aiokafka"}


def test_the_core_needs_neither_the_edge_nor_the_tooling():
    core = [
        path
        for path in _modules(exclude=(*KAFKA_EDGE, "cli"))
        if path.relative_to(PACKAGE).parts[:2] != ("codesets", "cms")
        and path.name != "__main__.py"  # `python -m processor` is the CLI
    ]
    assert len(core) > 20
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            n
            for n in _imports(path)
            if n.startswith(
                (
                    "processor.stream",
                    "processor.devtools",
                    "processor.cli",
                    "processor.codesets.cms",
                )
            )
        )
        for path in core
    }
    assert {p: n for p, n in offenders.items() if n} == {}
