"""How soon the two-sample classifier tells each model's images from the real ones.

`cardigan evaluate`'s classifier, trained for its 300 iterations, reads 1.000 on every model
we have made; stopped after fewer iterations it has learnt only the plainest tells, and its
AUC then ranks models that all read 1.000 at the end. For each model this draws its image of
every ``--every``-th train mask in that image's fan (evaluate's seeds), once, and trains the
classifier on the same images for each ``ITERS:SEEDS`` asked (the mean AUC over classifier
seeds 0..SEEDS-1 and its standard error). ``--raw`` turns a model's output settings off
(grain, tone, depth and tip gain, speckle shape, fine filter, shading), so the network's own
output is what is judged; ``--style-scale`` sets the style channels' spread.

It reads real pixels and prints only numbers.

    python benchmarks/classifier_curve.py --data data/camus256 --every 2 --raw --style-scale 0.4 \\
        --model demo --model build/pixel/skew/model.safetensors --iters 20:10 --iters 40:10 --iters 300:3
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli.options import int_in_range  # noqa: E402

RAW = dict(grain=0.0, tone=1.0, depth_gain=(), tip_gain=(), speckle_shape=(), fine_filter=(), shading=())


def parse_iters(text: str) -> tuple[int, int]:
    """``ITERS`` or ``ITERS:SEEDS`` (3 seeds by default)."""
    iters, _, seeds = text.partition(":")
    try:
        pair = int(iters), int(seeds or 3)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give ITERS or ITERS:SEEDS, e.g. 40:10") from None
    if min(pair) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: iterations and seeds must be at least 1")
    return pair


def prepared_model(name: str, raw: bool, style_scale: float | None):
    """The model as it will be judged: its output settings off when ``raw``, its style scale
    ``style_scale`` when given."""
    from engine.models import open_model
    from engine.models.tuning import tune_model

    model = open_model(name)
    settings = dict(RAW) if raw else {}
    if style_scale is not None:
        settings["style_scale"] = style_scale
    return tune_model(model, **settings) if settings else model


def curve(real: np.ndarray, synthetic: np.ndarray, patients: list[str], steps: list[tuple[int, int]]) -> dict:
    """``{iters: {"mean", "se", "aucs"}}`` for the classifier stopped after each ``iters``."""
    from engine.evaluation.realism import two_sample_auc

    result = {}
    for iters, seeds in steps:
        aucs = [two_sample_auc(real, synthetic, patients, patients, iters=iters, seed=s) for s in range(seeds)]
        se = float(np.std(aucs, ddof=1) / np.sqrt(seeds)) if seeds > 1 else float("nan")
        result[iters] = {"mean": float(np.mean(aucs)), "se": se, "aucs": [float(a) for a in aucs]}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a prepared dataset (its train split)")
    parser.add_argument("--model", action="append", required=True, help="demo, a model file ... (repeat)")
    parser.add_argument("--iters", action="append", type=parse_iters,
                        help="ITERS[:SEEDS], repeat (default 20:10, 40:10, 300:3)")
    parser.add_argument("--every", type=int_in_range(1, 100_000), default=2, help="every N-th train pair (default 2)")
    parser.add_argument("--raw", action="store_true", help="turn the models' output settings off")
    parser.add_argument("--style-scale", type=float, help="the style channels' spread for every model")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--out", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    import torch

    from engine.errors import CardiganError
    from engine.evaluation.evaluate import train_pairs_drawn

    if args.threads:
        torch.set_num_threads(args.threads)
    steps = args.iters or [(20, 10), (40, 10), (300, 3)]
    results = []
    for name in args.model:
        try:
            model = prepared_model(name, args.raw, args.style_scale)
        except CardiganError as error:
            raise SystemExit(f"{name}: {error}") from None
        real, _, _, patients, synthetic = train_pairs_drawn(args.data, model, every=args.every)
        row = curve(real, synthetic, patients, steps)
        results.append({"model": name, "images": len(real), "auc": row})
        print(f"{name} ({len(real)} pairs): " + "  ".join(
            f"{iters}: {r['mean']:.3f} ± {r['se']:.3f}" for iters, r in row.items()), flush=True)
    if args.out:
        args.out.write_text(json.dumps({"data": str(args.data), "raw": args.raw, "style_scale": args.style_scale,
                                        "every": args.every, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
