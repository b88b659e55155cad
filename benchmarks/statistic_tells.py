"""By what a model's images differ from real ones: named statistics per image, compared.

Each train image of a prepared dataset and the model's image of the same mask, in the same fan,
are described by the statistics of ``engine.evaluation.image_statistics`` (grey-level and
detail percentiles, gradients along and across the beam, local contrast, windowed spectrum
bands by orientation). Printed: a logistic regression's held-out AUC on all of them at once
(evaluate's patient split), the median spread ratio (how much our images vary from one to the
next against real ones: below 1, ours are more alike), and the statistics furthest from 0.5,
each with both sets' mean and standard deviation. It reads real pixels and prints only numbers.

    python benchmarks/statistic_tells.py --data data/camus256 --model demo --every 2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli.options import int_in_range  # noqa: E402
from engine.evaluation.evaluate import EvalSettings, train_pairs_drawn  # noqa: E402
from engine.evaluation.image_statistics import statistic_tells, statistics_of, strongest  # noqa: E402


def compare(data: Path, model, every: int = 1, seed: int = EvalSettings().seed) -> dict:
    """:func:`~engine.evaluation.image_statistics.statistic_tells` of ``model``'s images of
    every ``every``-th train mask against the real images, plus {"images": n}."""
    images, _, fans, groups, synthetic = train_pairs_drawn(Path(data), model, every, seed)
    result = statistic_tells(statistics_of(images, fans), statistics_of(synthetic, fans), groups, groups, seed)
    return {"images": len(images), **result}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--model", default="demo")
    parser.add_argument("--every", type=int_in_range(1, 100_000), default=1, help="use every N-th train pair")
    parser.add_argument("--top", type=int, default=12, help="statistics to print (default 12)")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    args = parser.parse_args(argv)
    if args.top < 1:
        parser.error("--top must be at least 1")
    result = compare(Path(args.data), args.model, max(1, args.every))
    print(f"{args.model} on {result['images']} train images: all statistics together, held-out AUC "
          f"{result['together']:.3f}; our images vary {result['median_spread_ratio']:.2f}x as much as real "
          "ones (median over statistics)")
    print(f"  {'statistic':24s} {'AUC':>6s}  {'real mean ± sd':>18s}  {'ours mean ± sd':>18s}  spread")
    for name in strongest(result, args.top):
        v = result["statistics"][name]
        print(f"  {name:24s} {v['auc']:6.3f}  {v['real_mean']:9.2f} ± {v['real_sd']:<6.2f}  "
              f"{v['synthetic_mean']:9.2f} ± {v['synthetic_sd']:<6.2f}  {v['spread_ratio']:.2f}")
    if args.out:
        args.out.write_text(json.dumps({"model": str(args.model), **result}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
