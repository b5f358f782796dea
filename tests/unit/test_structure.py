"""The package's structure, checked: cheap imports (no TensorFlow), no import cycles, the
library never imports its command line, no private names imported across modules, long
modules say why they are long."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import person_segmentation

PACKAGE = Path(person_segmentation.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, top_level_only: bool) -> list[tuple[str, list[str]]]:
    """(module, names) of the ``person_segmentation`` imports of a file; with
    ``top_level_only``, only those run at import time (not in functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, list[str]]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("person_segmentation"):
                found.append((node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found.extend((a.name, []) for a in node.names if a.name.startswith("person_segmentation"))
            elif isinstance(node, ast.If):
                test = node.test
                if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" and top_level_only:
                    continue
                visit(node.body + node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])
            elif not top_level_only and isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.With)):
                visit(node.body)

    visit(tree.body)
    if not top_level_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("person_segmentation"):
                entry = (node.module, [a.name for a in node.names])
                if entry not in found:
                    found.append(entry)
    return found


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)


def test_importing_the_package_imports_neither_tensorflow_nor_numpy() -> None:
    result = _fresh_python(
        "import sys, person_segmentation as ps; print(ps.__version__);"
        "print('tensorflow' in sys.modules, 'numpy' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [person_segmentation.__version__, "False", "False"]


def test_public_names_load_without_tensorflow() -> None:
    """Every public name resolves, and the post-processing of logits runs, without TensorFlow."""
    result = _fresh_python(
        "import sys, numpy as np, person_segmentation as ps\n"
        "for name in ps.__all__: getattr(ps, name)\n"
        "g = ps.compute_geometry(48, 64)\n"
        "logits = ps.Logits(np.zeros((23, 17, 1), np.float32), np.zeros((23, 17, 24), np.float32), g, False)\n"
        "assert ps.part_segmentation_from_logits(logits).shape == (48, 64)\n"
        "print('tensorflow' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_cli_help_imports_neither_tensorflow_nor_numpy() -> None:
    result = _fresh_python(
        "import sys\nfrom person_segmentation.cli import main\n"
        "for argv in (['--help'], ['segment', '--help'], ['webcam', '--help'], ['info', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "print('tensorflow' in sys.modules, 'numpy' in sys.modules, file=sys.stderr)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "False False"
    assert "segment" in result.stdout


def test_the_library_never_imports_its_command_line() -> None:
    for path in MODULES:
        name = _module_name(path)
        if name.startswith("person_segmentation.cli") or name == "person_segmentation.__main__":
            continue  # the command line itself, and `python -m person_segmentation` (an entry point)
        for module, names in _imports(path, top_level_only=False):
            assert not module.startswith("person_segmentation.cli"), f"{name} imports {module}"
            assert not (module == "person_segmentation" and "cli" in names), f"{name} imports the CLI"


def test_no_private_names_are_imported_across_modules() -> None:
    """``from person_segmentation.x import _name`` is refused; private *modules* (``_core``,
    ``_checks``) are the package's internals and may be imported."""
    for path in MODULES:
        for module, names in _imports(path, top_level_only=False):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if module == "person_segmentation":  # `from person_segmentation import _core`: a module
                private = [n for n in private if not (PACKAGE / f"{n}.py").exists() and not (PACKAGE / n).is_dir()]
                private = [n for n in private if not list(PACKAGE.glob(f"{n}.*"))]
            assert not private, f"{_module_name(path)} imports {private} from {module}"


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    names = {_module_name(p) for p in MODULES}
    for path in MODULES:
        edges: set[str] = set()
        for module, imported in _imports(path, top_level_only=True):
            for candidate in [module, *(f"{module}.{n}" for n in imported)]:
                if candidate in names and candidate != _module_name(path):
                    edges.add(candidate)
        graph[_module_name(path)] = edges
    # A package's __init__ is imported before its submodules; an edge to the parent package
    # from one of its own submodules is not a cycle.
    for node, edges in graph.items():
        graph[node] = {e for e in edges if not node.startswith(e + ".")}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail(f"import cycle: {' -> '.join([*stack, node, nxt])}")
            if nxt not in state:
                visit(nxt, [*stack, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_long_modules_say_why(path: Path) -> None:
    lines = path.read_text().count("\n")
    if lines > 500:
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert "Why one module" in docstring, f"{path.name} has {lines} lines and does not say why it is one module"
