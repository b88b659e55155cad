"""A training that diverges stops at once, before anything of it is saved.

A NaN or infinite loss (a learning rate far too high, a state holding NaN) would otherwise be
logged to stats.jsonl, saved as the newest state and written over ``model.safetensors``. The
loop calls :func:`stop_if_losses_diverged` after every step and :func:`stop_if_weights_diverged`
before every save; either raises :class:`TrainingDiverged` (one line, naming the iteration),
so the last good state and model stay as they were and the command exits non-zero.
"""

from __future__ import annotations

import math

import torch

from ..errors import CardiganError, Message, option

NETWORKS = ("generator", "encoder", "discriminator")


class TrainingDiverged(CardiganError):
    """A loss or a weight became NaN or infinite."""


def stop_if_losses_diverged(losses: dict, iteration: int, run) -> None:
    """Raise when a loss of the step that made ``iteration`` is not a finite number."""
    for name, value in losses.items():
        number = float(value)
        if not math.isfinite(number):
            raise TrainingDiverged(Message(f"training diverged at iteration {iteration}: the {name} loss "
                                           f"is {number}; ", kept(run)))


def stop_if_weights_diverged(networks: dict, iteration: int, run) -> None:
    """Raise when a network's weights (state dicts by name) hold NaN or infinite values."""
    for network in NETWORKS:
        name = first_non_finite(networks.get(network) or {})
        if name is not None:
            raise TrainingDiverged(Message(f"training diverged at iteration {iteration}: {network} weight "
                                           f"{name} holds NaN or infinite values; ", kept(run)))


def kept(run) -> Message:
    """What a diverged run leaves: its last saved state and model, untouched; before its first
    state, nothing (a new run that saved no state is removed, so it starts again)."""
    saved = run.saved_iterations()
    if not saved:
        return Message("it had saved no state yet, so nothing is kept; try a lower ", option("lr"))
    return Message(f"nothing of it was saved (the state of iteration {saved[-1]} and {run.model_path.name} "
                   "are kept); try a lower ", option("lr"), ", or resume from the kept state")


def first_non_finite(tree, prefix: str = "") -> str | None:
    """The name of the first floating-point tensor in nested dicts/lists holding NaN or
    infinite values, or None."""
    if isinstance(tree, torch.Tensor):
        if tree.is_floating_point() and tree.layout == torch.strided and tree.device.type != "meta" \
                and not bool(torch.isfinite(tree.float() if tree.element_size() == 1 else tree).all()):
            return prefix or "a tensor"
        return None
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, (list, tuple)) else ()
    for key, value in items:
        found = first_non_finite(value, f"{prefix}.{key}" if prefix else str(key))
        if found is not None:
            return found
    return None
