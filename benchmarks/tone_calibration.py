"""Which output tone (``engine.nets.tone``) brings a model's grey levels to the real images':
the mean grey level per region (background inside the fan, LV cavity, myocardium, left atrium)
of real train images against the model's images of the same masks under each candidate curve.

The model's images are made once, with its own tone replaced by 1, and each candidate curve is
applied to them afterwards (the grain, which the model adds after the curve, has zero mean).
The best tone is the one whose largest region gap is smallest.

It is chosen on the valid split by default, as a validation split's hyperparameter (the official
test patients stay apart). Not on the train split: a model trained with the per-image region
loss learns each training mask's own brightness, so its train-mask images match the real ones
even when its images of unseen masks are several grey levels darker (measured: 7-12 grey levels
on LA and background for one such model).

    python benchmarks/tone_calibration.py --data data/camus256 --model runs/x/model.safetensors
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.errors import CardiganError  # noqa: E402
from engine.evaluation.evaluate import load_split_with_fans, synthesize_all  # noqa: E402
from engine.evaluation.realism import REGIONS  # noqa: E402
from engine.fan import fan_mask  # noqa: E402
from engine.models import open_model  # noqa: E402
from engine.nets.tone import tone_grey  # noqa: E402
from engine.progress import never_stop, no_progress  # noqa: E402
from engine.synthesizer import Synthesizer  # noqa: E402

DEFAULT_TONES = [round(0.80 + 0.02 * k, 2) for k in range(16)]  # 0.80 ... 1.10


def region_means(images: np.ndarray, labels: np.ndarray, insides: np.ndarray) -> dict[str, float]:
    """Mean grey level per region of (N, H, W) images; the background counts inside the fan."""
    out = {}
    for name, label in REGIONS:
        region = labels == label
        if label == 0:
            region &= insides
        out[name] = float(images[region].astype(np.float64).mean()) if region.any() else float("nan")
    return out


def fit_tone(real: np.ndarray, synthetic: np.ndarray, labels: np.ndarray, insides: np.ndarray,
             tones: list[float]) -> dict:
    """{"real": region means, "gaps": {tone: {region: synthetic - real}}, "best": tone}."""
    target = region_means(real, labels, insides)
    gaps = {}
    for tone in tones:
        means = region_means(tone_grey(synthetic.astype(np.float64), tone), labels, insides)
        gaps[tone] = {name: means[name] - target[name] for name in target}
    best = min(tones, key=lambda t: max(abs(g) for g in gaps[t].values() if np.isfinite(g)))
    return {"real": target, "gaps": gaps, "best": best}


def calibrate(data: Path, model, tones: list[float] = DEFAULT_TONES, every: int = 1, split: str = "valid") -> dict:
    model = open_model(model) if isinstance(model, (str, Path)) else model
    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "tone"):
        raise ValueError("a tone curve needs a generator model, not the simulator")
    images, labels, _stems, fans = load_split_with_fans(Path(data), split, None)
    images, labels, fans = images[::every], labels[::every], fans[::every]
    insides = np.stack([fan_mask(fan, *image.shape) for image, fan in zip(images, fans)])
    config = dataclasses.replace(config, tone=1.0)
    model.generator.config = config
    model = dataclasses.replace(model, config=config)
    synthetic = synthesize_all(Synthesizer(model, device="cpu"), labels, 100_000, "tone", no_progress,
                               never_stop, fans=fans)
    return {**fit_tone(images, synthetic, labels, insides, tones), "images": len(images)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--model", default="demo")
    parser.add_argument("--tone", type=float, nargs="+", default=DEFAULT_TONES, help="candidate curves")
    parser.add_argument("--split", default="valid", help="the split whose masks and real images are compared")
    parser.add_argument("--every", type=int, default=1, help="use every N-th pair")
    args = parser.parse_args(argv)
    try:
        result = calibrate(Path(args.data), args.model, args.tone, args.every, args.split)
    except (ValueError, CardiganError) as exc:
        parser.error(str(exc))
    names = list(result["real"])
    print(f"real ({result['images']} {args.split} images): " + "   ".join(f"{n} {result['real'][n]:.1f}" for n in names))
    for tone, gaps in result["gaps"].items():
        print(f"tone {tone:g}: gaps " + "   ".join(f"{n} {gaps[n]:+.1f}" for n in names))
    print(f"best tone: {result['best']:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
