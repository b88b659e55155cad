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
    problem = state_problem(state)
    if problem:
        raise CardiganError(f"{path}: {problem}")
    return state


STATE_PARTS = ("generator", "discriminator", "opt_g", "opt_d")


def state_problem(state: dict) -> str | None:
    """What makes a loaded state unusable (a crafted or damaged file), or None."""
    from .divergence import first_non_finite

    iteration = state.get("iteration")
    if not isinstance(iteration, int) or isinstance(iteration, bool) or iteration < 0:
        return f"its iteration is {str(iteration)[:40]!r}, not a whole number"
    rng = state.get("rng")
    if not isinstance(rng, dict) or not isinstance(rng.get("torch"), torch.Tensor) \
            or rng["torch"].dtype != torch.uint8:
        return "its random number generator state is missing or damaged"
    missing = [part for part in STATE_PARTS if not isinstance(state.get(part), dict)]
    if missing:
        return f"it lacks {', '.join(missing)}"
    if "config" in state and not isinstance(state["config"], dict):
        return "its stored configuration is damaged"
    bad = first_non_finite({part: state.get(part) or {} for part in (*STATE_PARTS, "encoder")})
    if bad:
        return f"{bad} holds NaN or infinite values (the run had diverged)"
    return None


def resume_from_state(trainer, state: dict, path: Path, config, device: torch.device) -> None:
    """Load ``state`` into ``trainer`` after checking it was saved by networks of this shape
    (its own stored configuration, not config.json, which may have been edited)."""
    check_same_networks(state.get("config"), config, path)
    try:
        trainer.load_state_dict(state)
        restore_rng(state["rng"], device)
    except (RuntimeError, KeyError, TypeError, ValueError, IndexError) as exc:
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise CardiganError(f"{path}: does not fit this run's networks ({first})") from None


def check_same_networks(stored: dict | None, config, path: Path) -> None:
    """Refuse to resume when a network field of ``config`` differs from the state's own."""
    from .config import ARCHITECTURE_FIELDS, TrainConfig

    if stored is None:  # states written before they held their config
        return
    defaults = TrainConfig()
    changed = [name for name in ARCHITECTURE_FIELDS
               if stored.get(name, getattr(defaults, name)) != getattr(config, name)]
    if changed:
        details = ", ".join(f"{name} {stored.get(name, getattr(defaults, name))!r:.40} in the state, "
                            f"{getattr(config, name)!r:.40} now" for name in changed[:3])
        raise CardiganError(f"cannot resume: config.json no longer matches the networks saved in "
                            f"{path.name} ({details}); restore config.json or start a new run")


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
