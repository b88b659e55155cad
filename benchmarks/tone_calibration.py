"""Which output tone (``engine.nets.tone``) brings a model's grey levels to the real images':
the gap per region for each candidate curve, and the best (``engine.evaluation.tone_fit``;
``cardigan tune --fit-tone DATA`` writes a model file with it).

    python benchmarks/tone_calibration.py --data data/camus256 --model runs/x/model.safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli.options import int_in_range  # noqa: E402
from engine.errors import CardiganError  # noqa: E402
from engine.evaluation.tone_fit import DEFAULT_TONES, fit_model_tone  # noqa: E402
from engine.models import open_model  # noqa: E402


def calibrate(data: Path, model, tones=DEFAULT_TONES, every: int = 1, split: str = "valid") -> dict:
    model = open_model(model) if isinstance(model, (str, Path)) else model
    return fit_model_tone(data, model, split, tones, every)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--model", default="demo")
    parser.add_argument("--tone", type=float, nargs="+", default=list(DEFAULT_TONES), help="candidate curves")
    parser.add_argument("--split", default="valid", help="the split whose masks and real images are compared")
    parser.add_argument("--every", type=int_in_range(1, 100_000), default=1, help="use every N-th pair")
    args = parser.parse_args(argv)
    try:
        result = calibrate(Path(args.data), args.model, args.tone, args.every, args.split)
    except CardiganError as exc:
        parser.error(str(exc))
    names = list(result["real"])
    print(f"real ({result['images']} {args.split} images): "
          + "   ".join(f"{n} {result['real'][n]:.1f}" for n in names))
    for tone, gaps in result["gaps"].items():
        print(f"tone {tone:g}: gaps " + "   ".join(f"{n} {gaps[n]:+.1f}" for n in names))
    print(f"best tone: {result['best']:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
