"""What to give instead of a model path that names none: an NVlabs SPADE ``checkpoints``
folder given where its ``<name>`` subfolder was meant, or an epoch's ``<epoch>_net_G.pth``
that was never saved, beside the ones that were."""

from __future__ import annotations

from pathlib import Path

from .modelfile import RUN_MODEL_NAME

SHOWN = 4  # names listed at most; more are counted


def holds_model(folder: Path) -> bool:
    """Whether ``folder`` holds an NVlabs SPADE generator checkpoint or a run's model."""
    try:
        return (folder / RUN_MODEL_NAME).is_file() or any(p.is_file() for p in folder.glob("*_net_G.pth"))
    except OSError:
        return False


def listed(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def subfolders_hint(folder: Path) -> str:
    """'; give its subfolder X (or Y)' for a folder whose subfolders hold models (SPADE's
    ``checkpoints`` folder, one subfolder per ``--name``); '' when none does."""
    try:
        found = sorted(str(child) for child in folder.iterdir() if child.is_dir() and holds_model(child))
    except OSError:
        return ""
    if not found:
        return ""
    if len(found) == 1:
        return f"; its subfolder {found[0]} holds one: give that folder"
    return f"; its subfolders hold models: give one of {listed(found)}"


def siblings_hint(path: Path) -> str:
    """'; the folder holds A, B' for a missing ``*_net_G.pth`` whose folder holds others
    (an epoch that was never saved); '' otherwise."""
    if not path.name.endswith("_net_G.pth") or not path.parent.is_dir():
        return ""
    try:
        names = sorted(p.name for p in path.parent.glob("*_net_G.pth") if p.is_file())
    except OSError:
        return ""
    return f"; {path.parent} holds {listed(names)}" if names else ""
