"""Starting a run from trained weights: fine-tuning.

``--init-from`` starts the generator from a model file; ``--init-disc-from`` starts the
discriminator from a training run (its newest state) or one of its state files. A fine-tune
whose discriminator starts fresh first has to teach a critic what the source run's critic
already knew, and meanwhile its generator follows an untrained judge; carrying the critic
over avoids that. Only the discriminator's weights are taken (its
optimiser, counters and random state stay the new run's own); a tensor whose name or shape
differs starts fresh, and the caller is told which; when most of them differ the source is
another discriminator altogether and the run is refused.

For the generator, every weight whose name and shape agree is copied. One change of shape is understood: a
model without the fan class given to a fan run. Its one-hot input gains a channel after the
labels ("outside the fan"), so every tensor that reads the one-hot input (the first
convolution, CLADE's class tables, SPADE's shared MLP) gets that channel inserted, started
as a copy of the background's: outside the fan begins as background and learns to be black.
Anything else that differs starts fresh, and the caller is told which; a speckle path the
source lacks (``texture``) starts with its projection at zero, so the run begins from the
source's own images.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import CardiganError, Message, option
from ..models import open_model
from ..models.handle import GeneratorModel
from ..nets import SPADEGenerator


def _insert_class(old: torch.Tensor, new_shape: torch.Size, dim: int, at: int) -> torch.Tensor | None:
    """``old`` with a copy of index 0 (background) inserted at ``at`` along ``dim``, when that
    gives ``new_shape``; None otherwise."""
    if old.ndim != len(new_shape) or old.shape[dim] + 1 != new_shape[dim]:
        return None
    background = old.narrow(dim, 0, 1)
    out = torch.cat([old.narrow(dim, 0, at), background, old.narrow(dim, at, old.shape[dim] - at)], dim)
    return out if out.shape == new_shape else None


def warm_start(generator: SPADEGenerator, spec: str) -> list[str]:
    """Copy the weights of the model ``spec`` into ``generator``; returns the names of the
    tensors that kept their fresh initialisation."""
    try:
        model = open_model(spec)
    except CardiganError as exc:
        raise CardiganError(Message(option("init_from"), ": ", exc.message)) from None
    if not isinstance(model, GeneratorModel):
        raise CardiganError(Message(option("init_from"), f" {spec}: not a generator model (the simulator has "
                                    "no weights)"))
    source = model.generator.state_dict()
    target = generator.state_dict()
    at = model.config.label_nc  # where the fan class goes
    grows = generator.config.fan and not model.config.fan
    fresh = []
    for name, value in target.items():
        old = source.get(name)
        if old is not None and old.shape == value.shape:
            target[name] = old.to(value.dtype)
            continue
        adapted = None
        if old is not None and grows:
            if name.endswith(("class_gamma", "class_beta")):
                adapted = _insert_class(old, value.shape, 0, at)
            elif name == "fc.weight" or name.endswith("mlp_shared.0.weight"):
                adapted = _insert_class(old, value.shape, 1, at)
        if adapted is not None:
            target[name] = adapted.to(value.dtype)
        else:
            fresh.append(name)
            if name == "texture.project.weight":  # a new speckle path starts silent
                target[name] = torch.zeros_like(value)
    generator.load_state_dict(target)
    return fresh


def _state_of(spec: str) -> tuple[Path, dict]:
    """The training state named by ``spec``: a state file, or a run folder's newest one."""
    from .state import load_newest_state, load_state

    path = Path(spec).expanduser()
    if path.is_file():
        return path, load_state(path)
    if not path.is_dir():
        raise CardiganError(Message(option("init_disc_from"), f" {spec}: no such run folder or training state file"))
    found = load_newest_state(path / "checkpoints")
    if found is None:
        raise CardiganError(Message(option("init_disc_from"), f" {spec}: the folder holds no training state "
                                    "(a run's checkpoints/state_*.pt); a model file holds no discriminator"))
    return found


def read_discriminator(spec: str, config) -> tuple[Path, dict]:
    """(state file, discriminator state dict) of ``spec``: a training run folder (its newest
    state) or one of its state files, checked against the discriminator ``config`` builds.
    Called before a run starts, so a wrong path or another discriminator costs nothing."""
    from .networks import build_networks

    try:
        path, state = _state_of(spec)
    except CardiganError as exc:  # a message of _state_of names the option; one of load_state does not
        named = exc.message.gives(option("init_disc_from"))
        raise CardiganError(exc.message if named else Message(option("init_disc_from"), ": ", exc.message)) from None
    with torch.device("meta"):  # shapes only: nothing is allocated or initialised
        _, disc = build_networks(config)
    _fitting(disc.state_dict(), state["discriminator"], spec)
    return path, state["discriminator"]


def _fitting(target: dict, source: dict, spec: str) -> list[str]:
    """Names in ``target`` that ``source`` has no tensor of the same shape for; refused when
    that is most of those of the critics ``source`` has (a critic it lacks altogether, such as
    an added pooled critic, is new, not a misfit)."""
    fresh = [name for name, value in target.items()
             if not (isinstance(source.get(name), torch.Tensor) and source[name].shape == value.shape)]
    critics = {name.split(".")[0] for name in source}
    shared = [name for name in target if name.split(".")[0] in critics]
    misfits = [name for name in fresh if name.split(".")[0] in critics]
    if not shared or 2 * len(misfits) > len(shared):  # most of it does not fit: another discriminator altogether
        raise CardiganError(Message(option("init_disc_from"), f" {spec}: only {len(shared) - len(misfits)} of "
                                    f"this run's {len(shared)} discriminator tensors fit its discriminator "
                                    "(another ", option("ndf"), ", ", option("n_layers_d"), " or ",
                                    option("num_d"), "?)"))
    return fresh


def warm_start_discriminator(disc: torch.nn.Module, source: dict, spec: str) -> list[str]:
    """Copy the tensors of ``source`` (a discriminator's state dict, from
    :func:`read_discriminator`) whose name and shape fit into ``disc``; returns the names of
    those that kept their fresh initialisation. Refused when most of them do not fit."""
    target = disc.state_dict()
    fresh = _fitting(target, source, spec)
    for name, value in target.items():
        if name not in fresh:
            target[name] = source[name].to(value.dtype)
    disc.load_state_dict(target)
    return fresh
