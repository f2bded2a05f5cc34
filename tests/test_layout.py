"""The package's import graph (every import statement, at module level or inside a function): no import circles,
and no arrow from a lower stage to a higher one. The layers, lowest first:

    base (errors, units, io, progress, device, threads, allocator, version, settings) -> systems -> dsl -> discovery
        -> tailoring -> pipeline -> video -> cli

``noether/__init__.py`` is the table of contents (it may import anything, and nothing imports it). The test
fails if a circle or an upward import comes back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1] / "noether"
LAYERS = ["base", "systems", "dsl", "discovery", "tailoring", "pipeline", "video", "cli"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The noether modules a file imports (relative imports resolved; ``from pkg import name`` counts as pkg.name
    when that is a module, else pkg)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "noether"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "noether":
                continue
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target)
    return {m for m in found if m in MODULES and m != name}


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top == "__main__":  # ``python -m noether``: the command line
        return LAYERS.index("cli")
    return LAYERS.index(top) if top in LAYERS else 0


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name, path in MODULES.items():
        g.add_node(name)
        for target in imports_of(path):
            g.add_edge(name, target)
    return g


def test_every_module_is_in_a_known_place():
    tops = {m.split(".")[1] for m in MODULES if m.count(".") >= 1}
    base = {"errors", "units", "io", "progress", "device", "threads", "allocator", "version", "settings", "__main__"}
    assert tops <= set(LAYERS) | base, sorted(tops - set(LAYERS) - base)


def test_no_import_circles():
    cycles = list(nx.simple_cycles(graph()))
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles)


def test_every_import_points_down():
    g = graph()
    up = [(a, b) for a, b in g.edges if a != "noether" and (b == "noether" or layer(b) > layer(a))]
    assert not up, "upward imports: " + "; ".join(f"{a} -> {b}" for a, b in up)


def test_video_shares_only_the_tailoring_core():
    g = graph()
    bad = [
        (a, b)
        for a, b in g.edges
        if a.startswith("noether.video")
        and (
            b.startswith("noether.discovery")
            or b.startswith("noether.pipeline.")
            and b not in ("noether.pipeline.laws_file",)
        )
    ]
    assert not bad, bad


@pytest.mark.parametrize("package", ["noether.discovery", "noether.tailoring"])
def test_lower_stages_do_not_load_higher_ones(package):
    """Importing a lower stage in a fresh interpreter loads none of the stages above it."""
    import subprocess
    import sys

    above = LAYERS[LAYERS.index(package.split(".")[1]) + 1 :]
    code = f"import sys, {package}; print(sorted({{m.split('.')[1] for m in sys.modules if m.startswith('noether.')}}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not [s for s in above if f"'{s}'" in loaded], loaded
