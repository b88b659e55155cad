"""Where the downstream Dice is lost: one U-Net retrained on changed copies of one synthetic set.

``cardigan evaluate`` trains a U-Net on a model's images of the train masks (its variations)
and scores it on the real evaluation images. This script makes that training set exactly as
evaluate does, then retrains the same U-Net (same settings, same seed) on changed copies of
it, so the change is the only difference between two rows:

- ``as-made``: the set itself (evaluate's downstream figure);
- ``twin-histogram``: each image's grey levels mapped onto its real twin's (the real image of
  the same mask), a bound for any change of grey levels alone;
- ``blur:S``, ``sharpen:S``: a Gaussian blur of σ S pixels, an unsharp mask (σ S, amount 0.6);
- ``erode-myo:P``: the generator draws from masks whose myocardium is P pixels thinner (the
  rim goes to its neighbour); the pairs keep the true masks;
- ``jitter:P``: the generator draws from masks whose borders are moved smoothly by about P
  pixels (``engine.data.border_jitter``, as ``export --border-jitter P``); the pairs keep the
  true masks.

Each row gives Dice per class on the real images and the segmenter's predicted area of each
class over the true area (below 1: the class is drawn too small).

    python benchmarks/downstream_probe.py --data data/camus256 --model demo \\
        --variant as-made --variant twin-histogram --variant erode-myo:1 --out probe.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.evaluation.evaluate import (EvalSettings, choose_split, downstream_images,  # noqa: E402
                                        load_split_with_fans, resize_all)
from engine.labels import LABELS  # noqa: E402
from engine.evaluation.metrics import dice_per_class  # noqa: E402
from engine.evaluation.segmenter import segment, train_segmenter  # noqa: E402
from engine.synthesizer import Synthesizer  # noqa: E402

CLASSES = {label.key: label.id for label in LABELS if label.id}  # lv, myo, la
MYOCARDIUM = CLASSES["myo"]


# -- changes to the masks the generator is given ----------------------------------------------
def erode_myocardium(labels: np.ndarray, pixels: int) -> np.ndarray:
    """The map with the myocardium ``pixels`` thinner: each rim pixel takes the class of the
    nearest pixel that is not myocardium (cavity, atrium or background)."""
    myo = labels == MYOCARDIUM
    rim = myo & ~ndimage.binary_erosion(myo, iterations=pixels, border_value=1)
    if not rim.any():
        return labels.copy()
    _, (rows, cols) = ndimage.distance_transform_edt(myo, return_indices=True)
    out = labels.copy()
    out[rim] = labels[rows[rim], cols[rim]]
    return out


# -- changes to the images ---------------------------------------------------------------------
def match_histogram(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``image`` with its grey levels replaced, rank for rank, by ``reference``'s (same size)."""
    order = np.argsort(image, axis=None, kind="stable")
    out = np.empty(image.size, dtype=reference.dtype)
    out[order] = np.sort(reference, axis=None)
    return out.reshape(image.shape)


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    smooth = ndimage.gaussian_filter(images.astype(np.float32), sigma=(0, sigma, sigma))
    return np.clip(np.round(smooth), 0, 255).astype(np.uint8)


def sharpen(images: np.ndarray, sigma: float, amount: float = 0.6) -> np.ndarray:
    base = images.astype(np.float32)
    detail = base - ndimage.gaussian_filter(base, sigma=(0, sigma, sigma))
    return np.clip(np.round(base + amount * detail), 0, 255).astype(np.uint8)


MASK_VARIANTS = ("erode-myo", "jitter")
IMAGE_VARIANTS = ("as-made", "twin-histogram", "blur", "sharpen")


def parse_variant(text: str) -> tuple[str, float | None]:
    name, _, value = text.partition(":")
    if name not in IMAGE_VARIANTS and name not in MASK_VARIANTS:
        raise SystemExit(f"unknown variant {name!r} (use {', '.join((*IMAGE_VARIANTS, *MASK_VARIANTS))})")
    needs_value = name in MASK_VARIANTS or name in ("blur", "sharpen")
    if needs_value != bool(value):
        raise SystemExit(f"variant {name!r} {'needs a value, e.g. ' + name + ':1' if needs_value else 'takes no value'}")
    return name, float(value) if value else None


# -- the probe ---------------------------------------------------------------------------------
def synthetic_set(synth: Synthesizer, labels: np.ndarray, fans, settings: EvalSettings) -> np.ndarray:
    """evaluate's downstream images for ``labels``, all variations in one (K * N, size, size) array."""
    return np.concatenate(downstream_images(synth, labels, fans, settings)[0])


def score(images: np.ndarray, labels: np.ndarray, test_images: np.ndarray, test_labels: np.ndarray,
          settings: EvalSettings, device: str) -> dict:
    segmenter = train_segmenter(images, labels, iters=settings.seg_iters, width=settings.seg_width,
                                seed=settings.seed, device=device)
    predicted = segment(segmenter, test_images)
    areas = {name: float((predicted == c).sum() / max((test_labels == c).sum(), 1)) for name, c in CLASSES.items()}
    return {"dice": dice_per_class(predicted, test_labels), "area_ratio": areas}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--model", required=True)
    parser.add_argument("--variant", action="append", default=None,
                        help=f"one of {', '.join((*IMAGE_VARIANTS, *MASK_VARIANTS))} (repeat; default as-made)")
    parser.add_argument("--split", default=None, help="evaluation split (default: evaluate's choice)")
    parser.add_argument("--quick", action="store_true", help="evaluate --quick's budgets")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="JSON report")
    args = parser.parse_args(argv)
    variants = [parse_variant(v) for v in (args.variant or ["as-made"])]
    settings = EvalSettings.quick() if args.quick else EvalSettings()
    settings = dataclasses.replace(settings, border_jitter=0.0)  # every variant starts from the masks as they are
    root = Path(args.data)
    split, _ = choose_split(root, args.split)
    train_img, train_lab, _, train_fans = load_split_with_fans(root, "train", settings.max_train)
    test_img, test_lab, _, _ = load_split_with_fans(root, split, settings.max_test)
    train_img_s, train_lab_s = resize_all(train_img, train_lab, settings.size)
    test_img_s, test_lab_s = resize_all(test_img, test_lab, settings.size)
    synth = Synthesizer(args.model, device=args.device)
    torch.manual_seed(settings.seed)

    made = None
    rows = []
    for name, value in variants:
        start = time.perf_counter()
        if name == "erode-myo":
            thinner = np.stack([erode_myocardium(m, int(value)) for m in train_lab])
            images = synthetic_set(synth, thinner, train_fans, settings)
        elif name == "jitter":  # exactly as evaluate --border-jitter
            images = synthetic_set(synth, train_lab, train_fans, dataclasses.replace(settings, border_jitter=value))
        else:
            made = synthetic_set(synth, train_lab, train_fans, settings) if made is None else made
            if name == "twin-histogram":
                twins = np.concatenate([train_img_s] * (len(made) // len(train_img_s)))
                images = np.stack([match_histogram(image, twin) for image, twin in zip(made, twins)])
            elif name == "blur":
                images = blur(made, value)
            elif name == "sharpen":
                images = sharpen(made, value)
            else:
                images = made
        labels = np.concatenate([train_lab_s] * (len(images) // len(train_lab_s)))
        result = score(images, labels, test_img_s, test_lab_s, settings, args.device)
        label = name if value is None else f"{name}:{value:g}"
        rows.append({"variant": label, **result, "seconds": round(time.perf_counter() - start, 1)})
        dice, areas = result["dice"], result["area_ratio"]
        print(f"{label}: downstream Dice LV / myo / LA {dice['lv']:.3f} / {dice['myo']:.3f} / "
              f"{dice['la']:.3f} (mean {dice['mean']:.3f}); predicted / true area "
              f"{areas['lv']:.2f} / {areas['myo']:.2f} / {areas['la']:.2f}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"model": args.model, "split": split, "train_pairs": len(train_lab),
                                              "eval_pairs": len(test_lab), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
