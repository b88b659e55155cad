"""Training statistics by namespaced name, as ``stats.jsonl`` and the Scalars event carry them.

A record holds ``iter`` and ``epoch`` and then names with a namespace: ``Loss/G_GAN``,
``Loss/D_real``, ... for every loss, ``Progress/img_per_s``, ``Progress/lr_g``,
``Progress/world_size`` for how the run goes. A reader plots ``Loss/*`` and shows
``Progress/*`` without knowing the names, so a new loss needs no change anywhere else.
Records written before the namespaces (flat names) are read as if they had them.
"""

from __future__ import annotations

LOSS = "Loss/"
PROGRESS = "Progress/"
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


def losses(record: dict) -> dict[str, float]:
    """The losses of a record (flat or namespaced), by their short names."""
    return {name[len(LOSS):]: value for name, value in namespaced(record).items()
            if name.startswith(LOSS) and isinstance(value, (int, float))}
