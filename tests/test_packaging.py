"""Every package in the tree is listed in pyproject.toml, and resources are found."""

from pathlib import Path

import pytest

from engine.resources import resource_path

tomllib = pytest.importorskip("tomllib")

REPO = Path(__file__).resolve().parent.parent


def test_every_package_is_listed():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    # every folder holding Python code, with or without an __init__.py (a folder without one
    # imports from a checkout but is left out of a regular install)
    folders = {p.parent for top in ("engine", "cardigan_app") for p in (REPO / top).rglob("*.py")
               if "__pycache__" not in p.parts}
    found = {".".join(folder.relative_to(REPO).parts) for folder in folders}
    assert found <= listed, f"add to pyproject.toml packages: {sorted(found - listed)}"
    missing_init = sorted(str(folder.relative_to(REPO)) for folder in folders if not (folder / "__init__.py").is_file())
    assert not missing_init, f"add an __init__.py to: {missing_init}"
    assert config["package-dir"]["cardigan_resources"] == "resources"


def test_resources_resolve_to_the_shipped_folder():
    assert resource_path().joinpath("__init__.py").is_file()


def test_state_colours_are_written_only_in_the_theme():
    from cardigan_app import theme

    root = Path(__file__).resolve().parents[1] / "cardigan_app"
    colours = {theme.MUTED, theme.BUSY, theme.OK, theme.WARNING, theme.CAUTION, theme.ERROR}
    offenders = [f"{path.name}: {colour}" for path in root.rglob("*.py") if path.name != "theme.py"
                 for colour in colours if colour.lower() in path.read_text().lower()]
    assert offenders == []


def test_the_version_is_written_once_in_the_engine():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "engine.__version__"}
    from importlib.metadata import version

    import engine

    assert version("cardigan-studio") == engine.__version__  # what pip installed says the same
