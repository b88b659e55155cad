"""The median CAMUS fan per view and the spread of real fans, from a prepared dataset.

``cardigan prepare`` fits a fan (engine.fan) to every real image and lists it in the
manifest's ``fans``; this script summarises the train split's fans: the medians that
``engine.fan.DEFAULT_FANS`` holds, and the scanner settings behind ``random_fan``
(``engine.fan.FAN_SETTINGS``): real fans are not spread evenly around the median but sit, most
of them, on it, and the rest on a few other settings, each an opening and a squash that move
together.

    python scripts/fit_fans.py --data data/camus256
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.data.layout import parse_stem  # noqa: E402
from engine.fan import Fan  # noqa: E402


def summarise(manifest: dict, split: str = "train") -> dict:
    per_view: dict[str, list[Fan]] = {}
    for key, record in (manifest.get("fans") or {}).items():
        where, _, stem = key.partition("/")
        parsed = parse_stem(stem)
        if where != split or parsed is None:
            continue
        per_view.setdefault(parsed[1], []).append(Fan.from_dict(record))
    out = {}
    for view, fans in sorted(per_view.items()):
        table = np.array([[f.apex_x, f.apex_y, f.left, f.right, f.depth, f.squash, f.width, f.tilt]
                          for f in fans])
        names = ("apex_x", "apex_y", "left", "right", "depth", "squash", "width", "tilt")
        out[view] = {"count": len(fans),
                     "median": {n: round(float(v), 4) for n, v in zip(names, np.median(table, 0))},
                     "sd": {n: round(float(v), 4) for n, v in zip(names, table.std(0))}}
    return out


def settings(manifest: dict, split: str = "train", joined_deg: float = 1.0, joined_squash: float = 0.03,
             least: int = 4) -> dict:
    """The settings real fans sit on: each frame's opening and squash as offsets from its view's
    median, grouped (greedily, largest group first) within ``joined_deg`` and ``joined_squash``
    of a group's centre; groups of fewer than ``least`` frames are left out. Each comes with
    its share of the frames kept, and the spread of the frames in the median's group."""
    from engine.fan import DEFAULT_FANS

    offsets = []
    for key, record in (manifest.get("fans") or {}).items():
        where, _, stem = key.partition("/")
        parsed = parse_stem(stem)
        if where != split or parsed is None or parsed[1] not in DEFAULT_FANS:
            continue
        fan, median = Fan.from_dict(record), DEFAULT_FANS[parsed[1]]
        offsets.append((fan.width - median.width, fan.squash - median.squash))
    left = np.array(offsets)
    groups = []
    while len(left):
        near = [(np.abs(left[:, 0] - w) <= joined_deg) & (np.abs(left[:, 1] - q) <= joined_squash)
                for w, q in left]
        best = int(np.argmax([n.sum() for n in near]))
        members = left[near[best]]
        groups.append(members)
        left = left[~near[best]]
    kept = [g for g in groups if len(g) >= least]
    total = sum(len(g) for g in kept)
    median_group = min(kept, key=lambda g: abs(np.median(g[:, 0])) + abs(np.median(g[:, 1])) * 30)
    return {"frames": len(offsets), "kept": total,
            "jitter": {"width": round(float(median_group[:, 0].std()), 3),
                       "squash": round(float(median_group[:, 1].std()), 4)},
            "settings": [[round(float(np.median(g[:, 0])), 2), round(float(np.median(g[:, 1])), 3),
                          round(len(g) / total, 4)] for g in kept]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a dataset made by cardigan prepare")
    parser.add_argument("--split", default="train")
    args = parser.parse_args()
    manifest = json.loads((args.data / "manifest.json").read_text())
    print(json.dumps({"fit": manifest.get("fan_fit"), "views": summarise(manifest, args.split),
                      "settings": settings(manifest, args.split)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
