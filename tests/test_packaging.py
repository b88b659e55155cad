"""Every package in the tree is listed in pyproject.toml, and resources are found."""

from pathlib import Path

import pytest

from engine.resources import resource_path

tomllib = pytest.importorskip("tomllib")

REPO = Path(__file__).resolve().parent.parent


def test_every_package_is_listed():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts)
             for top in ("engine", "cardigan_app") for p in (REPO / top).rglob("__init__.py")}
    assert found <= listed, f"add to pyproject.toml packages: {sorted(found - listed)}"
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
