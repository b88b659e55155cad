"""What a user sees when the app cannot start: one line saying why, never a Qt abort or a
traceback."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def launch(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``cardigan ARGS`` in a fresh process, run from the checkout."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "cardigan_app", *args], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_a_window_system_qt_cannot_start_is_one_line_not_an_abort():
    result = launch(QT_QPA_PLATFORM="no-such-platform")
    assert result.returncode == 1, result.stderr  # Qt alone aborts: -6 and a core dump
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cardigan: cannot open the app's window:")
    assert "no-such-platform" in lines[0] and "cardigan --help" in lines[0]


def test_the_plugins_own_reason_is_named():
    from cardigan_app.app import window_system_failure

    said = [("qt.qpa.xcb", "could not connect to display :99"),
            ("qt.qpa.plugin", "From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform plugin."),
            ("qt.qpa.plugin", 'Could not load the Qt platform plugin "xcb" in "" even though it was found.')]
    assert window_system_failure(said) == "Qt could not start its xcb platform plugin (could not connect to display :99)"


def test_a_missing_dependency_in_a_command_is_one_line(capsys):
    import argparse

    import pytest

    from engine.cli.main import run_handler

    def needs_scipy(args):
        raise ModuleNotFoundError("No module named 'scipy'", name="scipy.ndimage")

    assert run_handler(needs_scipy, argparse.Namespace()) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cardigan: error:") and "pip install scipy" in err[0]

    def our_own_bug(args):
        raise ModuleNotFoundError("No module named 'engine.nothing'", name="engine.nothing")

    with pytest.raises(ModuleNotFoundError):  # not a user's problem: the traceback stays
        run_handler(our_own_bug, argparse.Namespace())


def test_every_dependency_has_its_import_name():
    import re

    tomllib = __import__("pytest").importorskip("tomllib")
    from engine.dependencies import DISTRIBUTIONS

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.match(r"[A-Za-z0-9_.-]+", spec).group(0).lower() for spec in declared}
    assert names == {name.lower() for name in DISTRIBUTIONS.values()}


def test_the_app_without_qt_says_what_to_install(monkeypatch, capsys):
    import importlib.abc

    import cardigan_app.app
    from cardigan_app.launcher import main as launcher_main

    monkeypatch.setattr(cardigan_app.app, "run_app", lambda **kw: 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setitem(sys.modules, "PySide6.QtWidgets", None)  # not installed
    assert launcher_main([]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install PySide6-Essentials" in err[0]

    class MissingSystemLibrary(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "PySide6.QtWidgets":
                raise ImportError("libEGL.so.1: cannot open shared object file: No such file or directory",
                                  name=name)

    monkeypatch.delitem(sys.modules, "PySide6.QtWidgets")
    monkeypatch.setattr(sys, "meta_path", [MissingSystemLibrary(), *sys.meta_path])
    assert launcher_main([]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "libEGL.so.1" in err[0] and "apt-get install libegl1" in err[0]


def test_a_missing_folder_with_a_trailing_slash_is_a_path_not_a_command(monkeypatch, tmp_path, capsys):
    from cardigan_app.launcher import main as launcher_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert launcher_main(["camus256/"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "camus256/: no such file or folder to open" in err[0]
    assert launcher_main(["synthesise"]) == 2  # a mistyped command stays the command line's
    assert "invalid choice: 'synthesise'" in capsys.readouterr().err


def test_help_says_how_to_open_files_in_the_app(capsys):
    import pytest

    from engine.cli.main import main

    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "`cardigan PATH ...` to open files in it" in text
