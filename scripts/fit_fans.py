"""The median CAMUS fan per view and the spread of real fans, from a prepared dataset.

``cardigan prepare`` fits a fan (engine.fan) to every real image and lists it in the
manifest's ``fans``; this script summarises the train split's fans: the medians that
``engine.fan.DEFAULT_FANS`` holds and the standard deviations behind ``random_fan``.

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a dataset made by cardigan prepare")
    parser.add_argument("--split", default="train")
    args = parser.parse_args()
    manifest = json.loads((args.data / "manifest.json").read_text())
    print(json.dumps({"fit": manifest.get("fan_fit"), "views": summarise(manifest, args.split)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
