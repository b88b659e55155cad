"""Training statistics by namespaced name, as ``stats.jsonl`` and the Scalars event carry them.

A record holds ``iter``, the iterations trained (counted from the run's start), and
``epoch``, the epoch that iteration belongs to, counted from 1 as the terminal and the
studio's progress bar name it (:func:`~engine.training.batches.epoch_number`: at 2 iterations
an epoch, iterations 55 and 56 are of epoch 28); files written by earlier versions counted
the epochs finished (27 and 28). No reader takes anything from ``epoch``: curves are drawn
against ``iter``, so either kind of file reads the same. Then come names with a namespace: ``Loss/G_GAN``,
``Loss/D_real``, ... for every loss, ``Progress/img_per_s``, ``Progress/lr_g``,
``Progress/world_size`` for how the run goes, and ``Diag/*`` for what a run measures but
does not train on (``Diag/D_pooled_gap``: the pooled critic's mean logit on real minus on
fake). A reader plots ``Loss/*`` and shows ``Progress/*`` and ``Diag/*`` without knowing
the names, so a new loss needs no change anywhere else. The trainer names a step's
losses by their short names and its diagnostics with the ``Diag/`` namespace already.
Records written before the namespaces (flat names) are read as if they had them.
:func:`loss_meaning` says what a loss measures, for a reader that shows its curve.
"""

from __future__ import annotations

LOSS = "Loss/"
PROGRESS = "Progress/"
DIAGNOSTIC = "Diag/"
KEYS = ("iter", "epoch")
FLAT_PROGRESS = ("img_per_s", "lr_g", "world_size")  # the non-loss names of flat records


def namespaced(record: dict) -> dict:
    """``record`` with namespaced names (already namespaced records come back unchanged)."""
    out = {}
    for name, value in record.items():
        if name in KEYS or "/" in name:
            out[name] = value
        elif name in FLAT_PROGRESS:
            out[PROGRESS + name] = value
        else:
            out[LOSS + name] = value
    return out


def diagnostics(record: dict) -> dict[str, float]:
    """The diagnostics of a record, by their short names (none in flat records)."""
    return {name[len(DIAGNOSTIC):]: value for name, value in record.items()
            if name.startswith(DIAGNOSTIC) and isinstance(value, (int, float))}


def progress(record: dict) -> dict[str, float]:
    """How the run goes (speed, learning rate, processes) by short names, flat records too."""
    return {name[len(PROGRESS):]: value for name, value in namespaced(record).items()
            if name.startswith(PROGRESS) and isinstance(value, (int, float))}


def losses(record: dict) -> dict[str, float]:
    """The losses of a record (flat or namespaced), by their short names."""
    return {name[len(LOSS):]: value for name, value in namespaced(record).items()
            if name.startswith(LOSS) and isinstance(value, (int, float))}


# the adversarial losses and feature matching; the others are named after their weight
LOSS_MEANINGS = {
    "G_GAN": "the generator's adversarial loss: low while the discriminators take its images for real",
    "D_real": "the discriminators' loss on real images: low while they call them real",
    "D_fake": "the discriminators' loss on synthesized images: low while they see through them",
    "G_feat": ("feature matching: how far the discriminators' inner features of a synthesized image "
               "lie from those of its real image (its weight: lambda_feat)"),
}


def loss_meaning(name: str) -> str:
    """What the loss ``name`` (a short name, ``G_feat``) measures, or "" for one not known:
    a weighted loss says what its weight's hyper-parameter (``lambda_feat``) says."""
    if name in LOSS_MEANINGS:
        return LOSS_MEANINGS[name]
    from .config import FIELDS

    weight = "lambda_" + name.partition("_")[2].lower()
    meaning = FIELDS[weight].metadata.get("help", "") if weight in FIELDS else ""
    if not meaning:
        return ""
    return f"{meaning.removeprefix('weight of ')} (its weight: {weight})"
