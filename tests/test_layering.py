"""The layering of the package: imports flow one way, from the command line down to the
foundation, and never in a cycle.

    ovid (the public API: make_detector, load_detector)
    ovid.cli                                   the command line
    ovid.reports.study, ovid.reports.memorization, ovid.reports   the studies; ovid.serve   the service
    ovid.reports.render, ovid.reports.schema   rendering, and the tables' contract
    ovid.generate | ovid.detect | ovid.overlap the stages, independent of each other
    ovid.errors, ovid.models, ovid.corpus, ... the foundation (every other module of ovid/)

Every import counts, including those inside functions and the registry's lazy "module:Class"
entries. The checks are pure functions over {module: source}, so the tests below also show
that they catch an upward import, a stage importing another stage, and a cycle.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]

# (module prefix, layer); the longest matching prefix decides. A module may import modules of
# its own layer or lower ones, except in INDEPENDENT layers, whose units never import each other.
LAYERS = [
    ("ovid.", 0),  # the foundation: every module of ovid/ not named below
    ("ovid.generate", 1), ("ovid.detect", 1), ("ovid.overlap", 1), ("ovid.attack", 1),
    ("ovid.reports.schema", 2), ("ovid.reports.render", 2),
    ("ovid.reports", 3), ("ovid.reports.memorization", 3), ("ovid.reports.study", 3),
    ("ovid.serve", 3),
    ("ovid.cli", 4),
    ("ovid", 5),  # the package root: the public API
]
INDEPENDENT = {1}
LAZY_ENTRY = re.compile(r"^(ovid(?:\.\w+)+):\w+$")  # the detector registry's lazy entries


def package_sources() -> dict[str, tuple[str, bool]]:
    """{module name: (source, is_package)} for every module of the distribution, found through
    pyproject's package-dir mapping."""
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    out = {}
    for pkg, folder in cfg["package-dir"].items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([pkg, *parts])
            out[name] = (path.read_text(encoding="utf-8"), path.name == "__init__.py")
    return out


def imports_of(module: str, source: str, is_package: bool, known: set[str], lazy: bool = True) -> set[str]:
    """The package's modules that `module` imports, at any depth, relative imports resolved;
    with `lazy`, also the modules its registry entries name."""
    base = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")[:len(base.split(".")) - (node.level - 1)]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]
        elif lazy and isinstance(node, ast.Constant) and isinstance(node.value, str) and LAZY_ENTRY.match(node.value):
            names = [LAZY_ENTRY.match(node.value).group(1)]
        else:
            continue
        found.update(n for n in names if n in known and n != module)
    return found


def layer_of(module: str) -> tuple[int, str]:
    """(layer, unit): the unit is the matching prefix, e.g. "ovid.detect"."""
    best = max((p for p, _ in LAYERS if module == p or module.startswith(p if p.endswith(".") else p + ".")),
               key=len)
    return dict(LAYERS)[best], best


def import_graph(sources: dict[str, tuple[str, bool]], lazy: bool = True) -> dict[str, set[str]]:
    """{module: the modules it imports}. Layering counts the registry's lazy entries; cycles do
    not, since a registry naming the classes that register themselves is its design."""
    known = set(sources)
    return {m: imports_of(m, src, pkg, known, lazy) for m, (src, pkg) in sources.items()}


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, targets in sorted(graph.items()):
        (layer, unit) = layer_of(module)
        for t in sorted(targets):
            (t_layer, t_unit) = layer_of(t)
            if t_layer > layer:
                out.append(f"{module} (layer {layer}) imports {t} (layer {t_layer}): upward")
            elif t_layer == layer and layer in INDEPENDENT and t_unit != unit:
                out.append(f"{module} imports {t}: stages are independent")
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer_and_the_map_is_complete():
    sources = package_sources()
    assert {"ovid", "ovid.corpus", "ovid.detect.engine", "ovid.generate.corpus_job", "ovid.overlap.bloom",
            "ovid.reports.study.run", "ovid.reports.memorization.study", "ovid.reports.render.report",
            "ovid.cli.app"} <= set(sources)
    assert layer_of("ovid.corpus") == (0, "ovid.")
    assert layer_of("ovid.reports.render.plots") == (2, "ovid.reports.render")
    assert layer_of("ovid") == (5, "ovid")


def test_imports_flow_one_way_and_never_in_a_cycle():
    graph = import_graph(package_sources())
    assert "ovid.reports.memorization.study" in graph["ovid.reports.study.run"]  # the walk sees imports
    assert "ovid.detect.likelihood" in graph["ovid.detect.registry"]  # and lazy registry entries
    assert layering_violations(graph) == []
    assert cycles(import_graph(package_sources(), lazy=False)) == []


def test_an_upward_import_is_caught_even_inside_a_function():
    sources = package_sources()
    src, pkg = sources["ovid.corpus"]
    sources["ovid.corpus"] = (src + "\n\ndef sneaky():\n    from ovid.detect import make_detector\n", pkg)
    assert layering_violations(import_graph(sources)) == [
        "ovid.corpus (layer 0) imports ovid.detect (layer 1): upward"]
    src, pkg = sources["ovid.reports.render.plots"]
    sources["ovid.reports.render.plots"] = (src + "\nfrom ..study.statistics import detection_metrics\n", pkg)
    assert ("ovid.reports.render.plots (layer 2) imports ovid.reports.study.statistics (layer 3): upward"
            in layering_violations(import_graph(sources)))


def test_a_stage_importing_another_stage_is_caught():
    sources = package_sources()
    src, pkg = sources["ovid.generate.grid"]
    sources["ovid.generate.grid"] = (src + "\nfrom ovid.detect.engine import get_engine\n", pkg)
    assert layering_violations(import_graph(sources)) == [
        "ovid.generate.grid imports ovid.detect.engine: stages are independent"]


def test_a_cycle_is_caught():
    sources = package_sources()
    src, pkg = sources["ovid.errors"]
    sources["ovid.errors"] = (src + "\nfrom .corpus import Record\n", pkg)  # corpus imports errors
    assert cycles(import_graph(sources, lazy=False)) == [["ovid.corpus", "ovid.errors", "ovid.jsonread", "ovid.textio"]]
