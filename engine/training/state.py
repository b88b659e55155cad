"""Full training state for resume: every state dict, counters and RNG, tensors only.

Files are ``checkpoints/state_<iteration>.pt``, written atomically (temporary file, fsync,
rename), so a kill at any moment leaves the previous state intact. They are read with
``torch.load(weights_only=True)``: the state holds only tensors, numbers, strings and
containers, never pickled objects.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ..errors import CardiganError
from ..fileio import atomic_path
from ..safeload import load_tensor_file

STATE_FORMAT = "cardigan-train-state"
STATE_PATTERN = re.compile(r"^state_(\d{8,})\.pt$")


def state_path(checkpoint_dir: Path, iteration: int) -> Path:
    return checkpoint_dir / f"state_{iteration:08d}.pt"


def state_iteration(path: Path) -> int:
    """The iteration in a state file's name (``state_00001250.pt`` -> 1250)."""
    match = STATE_PATTERN.match(Path(path).name)
    if match is None:
        raise ValueError(f"{path}: not a training state file name")
    return int(match.group(1))


def list_states(checkpoint_dir: Path) -> list[Path]:
    """Complete state files, oldest first (temporary files of interrupted writes are ignored)."""
    if not checkpoint_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in checkpoint_dir.iterdir()
             if (m := STATE_PATTERN.match(p.name))]
    return [p for _, p in sorted(found)]


def save_state(state: dict, checkpoint_dir: Path, iteration: int, keep: int) -> Path:
    """Write ``state`` atomically and delete all but the newest ``keep`` state files."""
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    path = state_path(checkpoint_dir, iteration)
    with atomic_path(path) as tmp:
        torch.save({"format": STATE_FORMAT, **state}, tmp)
    for old in list_states(checkpoint_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_state(path: Path) -> dict:
    state = load_tensor_file(path, "training state")
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise CardiganError(f"{path}: not a cardiGAN training state")
    return state


def load_newest_state(checkpoint_dir: Path, skipped: list[str] | None = None) -> tuple[Path, dict] | None:
    """The newest readable state. A damaged newer file falls back to the one before; its
    one-line reason is appended to ``skipped`` so the caller can say which file it passed over."""
    errors = []
    for path in reversed(list_states(checkpoint_dir)):
        try:
            found = path, load_state(path)
        except CardiganError as exc:
            errors.append(str(exc))
            continue
        if skipped is not None:
            skipped.extend(errors)
        return found
    if errors:
        raise CardiganError(f"no usable training state in {checkpoint_dir}: {errors[0]}")
    return None


def rng_state(device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
