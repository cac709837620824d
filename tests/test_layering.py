"""Layering: inference never imports the trainer, the package has no import cycles, and the
command line starts without torch, pandas or pyarrow."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "engine"


def _modules_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_the_inference_path_does_not_import_the_trainer():
    loaded = _modules_after(
        "import engine; engine.load, engine.open_index\nimport engine.encoder, engine.index.build, engine.index.search, engine.index.serve, engine.index.cli"
    )
    assert "engine.encoder" in loaded and "engine.index.serve" in loaded
    assert not any(name == "engine.train" or name.startswith("engine.train.") for name in loaded), sorted(loaded)


def test_the_parser_of_every_command_imports_no_heavy_library():
    loaded = _modules_after("import engine.cli; engine.cli.build_parser()")
    assert not {"torch", "pandas", "pyarrow", "faiss"} & loaded


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """engine modules `path` imports, at module level or inside functions (the package root aside)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {name for name in names if name in known and name != "engine"}
    return found


def find_cycle(package: Path) -> list[str] | None:
    """An import cycle among the modules of `package`, or None."""
    files = {_module_name(path, package): path for path in package.rglob("*.py")}
    graph = {name: sorted(_imports(path, set(files)) - {name}) for name, path in files.items()}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for child in graph[node]:
            if state.get(child) == 1:
                return stack[stack.index(child) :] + [child]
            if child not in state and (cycle := visit(child, stack + [child])):
                return cycle
        state[node] = 2
        return None

    return next((cycle for name in sorted(graph) if name not in state and (cycle := visit(name, [name]))), None)


def test_no_import_cycles_between_engine_modules():
    assert find_cycle(PACKAGE) is None, " -> ".join(find_cycle(PACKAGE))


def test_engine_help_starts_quickly():
    """A generous bound against a regression that imports torch again; the figure is printed."""
    engine = Path(sys.executable).with_name("engine")
    timings = {}
    for command in (["--help"], ["index", "--help"], ["query", "--help"]):
        started = time.perf_counter()
        subprocess.run([str(engine), *command], capture_output=True, check=True, timeout=60)
        timings[" ".join(command)] = time.perf_counter() - started
    print(f"\nstart-up: {', '.join(f'engine {c}: {s:.2f} s' for c, s in timings.items())}")
    assert max(timings.values()) < 2.0, timings


def test_lower_layers_import_nothing_from_higher_ones():
    """model (and the checkpoint format) < index, encoder < train: never the other way round."""
    files = {_module_name(path, PACKAGE): path for path in PACKAGE.rglob("*.py")}
    forbidden = {
        "engine.model": ("engine.index", "engine.train", "engine.configs"),
        "engine.encoder": ("engine.train", "engine.configs"),
        "engine.index": ("engine.train", "engine.configs"),
        "engine.images": ("engine.index", "engine.model", "engine.train"),
    }
    for name, path in files.items():
        for layer, above in forbidden.items():
            if name == layer or name.startswith(layer + "."):
                wrong = [m for m in _imports(path, set(files)) if m.startswith(above)]
                assert not wrong, f"{name} imports {wrong}"
