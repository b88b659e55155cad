"""A picture of several models side by side on hearts drawn from the shape model (no real pixels).

One row per model, one column per heart: heart ``i`` is ``template_mask`` of the shipped shape
model with seed ``i`` (4CH and 2CH alternating, end-diastole) inside its view's median CAMUS
fan, drawn with seed ``i``. The README's comparison of the bundled model with earlier ones:

    python scripts/model_sheet.py --model STAGE2 --model demo --out docs/images/old_and_new_model.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.anatomy import template_mask  # noqa: E402
from engine.fan import default_fan  # noqa: E402
from engine.synthesizer import Synthesizer, to_uint8  # noqa: E402


def sheet(models: list[str], hearts: int = 4, size: int = 256, device: str = "cpu") -> np.ndarray:
    """(rows * size, hearts * size) uint8: a row per model."""
    views = ["4CH" if i % 2 == 0 else "2CH" for i in range(hearts)]
    masks = [template_mask(view, "ED", seed=i, size=size) for i, view in enumerate(views)]
    rows = []
    for model in models:
        synth = Synthesizer(model, device=device)
        row = [to_uint8(synth.synthesize(mask, seed=i, fan=default_fan(view)))
               for i, (mask, view) in enumerate(zip(masks, views))]
        rows.append(np.concatenate(row, axis=1))
    return np.concatenate(rows, axis=0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True, help="a model, one row (repeat)")
    parser.add_argument("--hearts", type=int, default=4, help="columns (default 4)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", required=True, help="PNG to write")
    args = parser.parse_args(argv)
    from PIL import Image

    Image.fromarray(sheet(args.model, args.hearts, device=args.device)).save(args.out)
    print(f"wrote {args.out}: {len(args.model)} models x {args.hearts} hearts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
