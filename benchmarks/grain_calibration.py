"""How much pixel grain a model needs: the fine detail of its images at several grain amounts
against the real images' own, on a prepared dataset's train split.

The fine detail is evaluate's (``engine.evaluation.texture.fine_detail``: mean log power of
the top third of the frequencies minus the bottom third, windows inside the fan). The grain
(``engine.nets.grain``) is applied as the model applies it; only its amount changes. Measured
on the train split so that the valid split stays for evaluate.

    python benchmarks/grain_calibration.py --data data/camus256 --model demo --grain 0 2 2.5 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli.options import int_in_range  # noqa: E402
from engine.evaluation.evaluate import load_split_with_fans, synthesize_all  # noqa: E402
from engine.evaluation.texture import spectrum_summary  # noqa: E402
from engine.fan import fan_mask  # noqa: E402
from engine.models import open_model  # noqa: E402
from engine.models.tuning import tune_model  # noqa: E402
from engine.progress import never_stop, no_progress  # noqa: E402
from engine.synthesizer import Synthesizer  # noqa: E402


def calibrate(data: Path, model, grains: list[float], every: int = 4) -> dict:
    """{"real": the train images' fine detail, "synthetic": {grain: fine detail}}."""
    images, labels, _stems, fans = load_split_with_fans(Path(data), "train", None)
    images, labels, fans = images[::every], labels[::every], fans[::every]
    insides = np.stack([fan_mask(fan, *image.shape) for image, fan in zip(images, fans)])
    model = open_model(model) if isinstance(model, (str, Path)) else model
    if not getattr(getattr(model, "config", None), "noise_nc", 0):
        raise ValueError("grain needs a model with a noise input")
    out = {"real": spectrum_summary(images, insides)["fine_detail"], "images": len(images), "synthetic": {}}
    for grain in grains:
        synth = Synthesizer(tune_model(model, grain=grain), device="cpu")
        synthetic = synthesize_all(synth, labels, 100_000, "grain", no_progress, never_stop, fans=fans)
        out["synthetic"][grain] = spectrum_summary(synthetic, insides)["fine_detail"]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--model", default="demo")
    parser.add_argument("--grain", type=float, nargs="+", default=[0.0, 2.0, 2.5, 3.0])
    parser.add_argument("--every", type=int_in_range(1, 100_000), default=4, help="use every N-th train pair")
    args = parser.parse_args(argv)
    try:
        result = calibrate(Path(args.data), args.model, args.grain, args.every)
    except ValueError as exc:
        parser.error(f"{args.model}: {exc}")
    print(f"real ({result['images']} train images): fine detail {result['real']:.3f}")
    for grain, fine in result["synthetic"].items():
        print(f"grain {grain:g}: fine detail {fine:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
