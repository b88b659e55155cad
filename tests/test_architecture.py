"""The engine stays headless: it never imports Qt or the app."""

import ast
import subprocess
import sys
from pathlib import Path

import engine

ENGINE = Path(engine.__file__).parent
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "cardigan_app", "qtawesome")


def test_no_engine_source_imports_qt_or_the_app():
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
                names = [a.value for a in node.args if isinstance(a, ast.Constant)]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_every_engine_module_loads_no_qt():
    modules = sorted(".".join(p.relative_to(ENGINE.parent).with_suffix("").parts)
                     for p in ENGINE.rglob("*.py") if p.name != "__main__.py")
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


APP = ENGINE.parent / "cardigan_app"


def _sources(*roots: Path):
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            yield path, path.read_text(encoding="utf-8")


def test_no_source_cites_a_document_the_repository_lacks():
    import re

    cited = re.compile(r"\b([A-Z][A-Z_]+)(?:\.md)? \u00a7\s*\d")  # "DESIGN §4", "NOTES.md §2"
    missing = [f"{path.name}: {m.group(0)}" for path, text in _sources(ENGINE, APP)
               for m in cited.finditer(text)
               if not (ENGINE.parent / f"{m.group(1)}.md").is_file()]
    assert missing == []


def test_only_the_main_window_sets_attributes_on_the_window():
    """Helpers get what they need; what the studio is doing lives in its state, not in
    attributes that helpers hang on the window."""
    def is_window(node) -> bool:
        return (isinstance(node, ast.Name) and node.id == "window") or (
            isinstance(node, ast.Attribute) and node.attr == "window"
            and isinstance(node.value, ast.Name) and node.value.id == "self")

    offenders = []
    for path, text in _sources(APP):
        if path.name in ("main_window.py", "testing.py"):
            continue
        for node in ast.walk(ast.parse(text, str(path))):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            offenders += [f"{path.name}:{node.lineno} window.{t.attr}" for t in targets
                          if isinstance(t, ast.Attribute) and is_window(t.value)]
    assert offenders == []


def test_the_training_wizard_imports_its_pages_at_the_top():
    """No import cycle hidden in a function: the pages import the wizard's state, the wizard
    imports the pages."""
    late = []
    for path, text in _sources(APP / "training"):
        for function in ast.walk(ast.parse(text, str(path))):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                late += [f"{path.name}:{node.lineno}" for node in ast.walk(function)
                         if isinstance(node, ast.ImportFrom) and node.level > 0]
    assert late == []
