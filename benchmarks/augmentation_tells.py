"""How far the training pairs, as the augmentation makes them, are from the real images: the
two-sample AUC (evaluate's classifier, patients held out) between a prepared dataset's train
images and the same images augmented one way.

A GAN learns the images its discriminator is shown. When the augmentation alone makes real
frames tell from real ones, a generator trained on them learns what tells. The kinds:

- ``none``: the images as they are (the test's floor, 0.5);
- ``subpixel``: shifted by less than half a pixel, bilinear (the resampling's softening alone,
  the fan moved by under a pixel);
- ``pixel``: shifted by whole pixels as ``--augment-geometry pixel`` does (the pixels copied,
  the fan moved);
- ``resample``: turned, scaled and shifted as ``--augment-geometry resample`` does;
- ``intensity``: gain and compression only;
- ``deform``: the training's deformation alone (the heart moved along the shape model or
  elastically, resampled);
- ``shape`` / ``shape-nearest``: the shape-model deformation alone, the picture sampled
  bilinearly (as training does) or by nearest pixel (every grey level a real one), the same
  warps for both (``docs/realism.md`` › The training pairs);
- ``training``: what ``cardigan train`` shows its discriminator at ``--augment-geometry``
  and ``--deform`` (both given here).

It reads real pixels and prints only numbers.

    python benchmarks/augmentation_tells.py --data data/camus256 --every 2 --kind subpixel --kind pixel
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli.options import int_in_range  # noqa: E402
from engine.data.augment import (GEOMETRIES, AugmentConfig, AugmentParams, affine_warp, augment_pair,  # noqa: E402
                                 draw_params)
from engine.data.dataset import PairedDataset  # noqa: E402
from engine.data.deform import deform_pair  # noqa: E402
from engine.data.layout import parse_stem  # noqa: E402
from engine.evaluation.evaluate import EvalSettings, load_split_with_fans, patients_of, resize_all  # noqa: E402
from engine.evaluation.realism import two_sample_auc  # noqa: E402
from engine.fan import Fan, fan_alpha  # noqa: E402

KINDS = ("none", "subpixel", "pixel", "resample", "intensity", "deform", "shape", "shape-nearest", "training")
SAME_GREY = dict(gain=(1.0, 1.0), gamma=(1.0, 1.0))


def augmented(image: np.ndarray, labels: np.ndarray, fan: Fan, stem: str, kind: str,
              rng: np.random.Generator) -> np.ndarray:
    """Pair (``image`` uint8, ``labels``, its ``fan``, its ``stem``) augmented as ``kind`` says
    (:data:`KINDS`, all but ``training``, which is the training dataset's own item), uint8."""
    if kind == "none":
        return image
    picture = image.astype(np.float32) / 255.0
    if kind == "deform":
        parsed = parse_stem(stem)
        return to_uint8(deform_pair(picture, labels, rng, fan=fan_alpha(fan, *labels.shape),
                                    view=parsed[1] if parsed else None, phase=parsed[2] if parsed else None)[0])
    if kind in ("shape", "shape-nearest"):
        import torch
        import torch.nn.functional as F

        from engine.data.shape_deform import STEP, shape_warp

        parsed = parse_stem(stem)
        grid = shape_warp(labels, rng, parsed[1] if parsed else None, parsed[2] if parsed else None,
                          None, None, None, STEP)
        if grid is None:  # no landmarks found: the frame as it is
            return image
        mode = "nearest" if kind == "shape-nearest" else "bilinear"
        warped = F.grid_sample(torch.from_numpy(picture)[None, None], grid, mode=mode, padding_mode="zeros",
                               align_corners=False)[0, 0].numpy()
        return to_uint8(warped)
    if kind == "subpixel":
        height, width = labels.shape
        params = AugmentParams(0.0, 1.0, float(rng.uniform(-0.5, 0.5)) / width,
                               float(rng.uniform(-0.5, 0.5)) / height, 1.0, 1.0, False)
        return to_uint8(affine_warp(picture, params))
    config = {"pixel": AugmentConfig(geometry="pixel", **SAME_GREY),
              "resample": AugmentConfig(geometry="resample", **SAME_GREY),
              "intensity": AugmentConfig(geometry="none")}[kind]
    return to_uint8(augment_pair(picture, labels, draw_params(rng, config))[0])


def to_uint8(picture: np.ndarray) -> np.ndarray:
    return np.clip(np.round(picture * 255.0), 0, 255).astype(np.uint8)


def augmentation_tells(data: Path, kinds, every: int = 1, seeds: int = 3, settings: EvalSettings = EvalSettings(),
                       geometry: str = "pixel", deform: float = 0.3, seed: int = 0) -> dict:
    """{"images": n, "auc": {kind: mean AUC over ``seeds`` classifier seeds}, "per_seed": {kind:
    [AUC, ...]}} between every ``every``-th train image and its augmented copy."""
    images, labels, stems, fans = load_split_with_fans(Path(data), "train", None)
    rows = list(range(0, len(stems), max(1, every)))
    groups = patients_of([stems[i] for i in rows])
    real_s = resize_all(images[rows], None, settings.size)[0]
    training = (PairedDataset(Path(data), "train", augment=True, deform=deform, geometry=geometry, seed=seed)
                if "training" in kinds else None)
    per_seed = {}
    for kind in kinds:
        rng = np.random.default_rng(seed)
        if kind == "training":
            copies = np.stack([to_uint8((training[i]["image"][0].numpy() + 1.0) / 2.0) for i in rows])
        else:
            copies = np.stack([augmented(images[i], labels[i], fans[i], stems[i], kind, rng) for i in rows])
        copies_s = resize_all(copies, None, settings.size)[0]
        per_seed[kind] = [two_sample_auc(real_s, copies_s, groups, groups, iters=settings.two_sample_iters,
                                         seed=settings.seed + k, stage=f"two-sample test, {kind}")
                          for k in range(seeds)]
    return {"images": len(rows), "auc": {k: float(np.mean(v)) for k, v in per_seed.items()}, "per_seed": per_seed}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--kind", action="append", choices=KINDS, default=None,
                        help="how the copies are augmented (may be repeated; default: all)")
    parser.add_argument("--every", type=int_in_range(1, 100_000), default=1, help="use every N-th train pair")
    parser.add_argument("--seeds", type=int, default=3, help="classifier seeds to average")
    parser.add_argument("--geometry", choices=GEOMETRIES, default="pixel", help="the training kind's geometry")
    parser.add_argument("--deform", type=float, default=0.3, help="the training kind's share of deformed pairs")
    parser.add_argument("--size", type=int, default=None, help="classifier resolution (default evaluate's)")
    parser.add_argument("--iters", type=int, default=None, help="classifier iterations (default evaluate's)")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    default = EvalSettings()
    settings = EvalSettings(size=args.size or default.size, two_sample_iters=args.iters or default.two_sample_iters)
    kinds = args.kind or list(KINDS)
    result = augmentation_tells(Path(args.data), kinds, args.every, args.seeds, settings, args.geometry, args.deform)
    print(f"real train images against augmented copies ({result['images']} images, "
          f"AUC, mean of {args.seeds} classifier seeds):")
    for kind in kinds:
        print(f"  {kind:10s} {result['auc'][kind]:.3f}  ({' '.join(f'{a:.3f}' for a in result['per_seed'][kind])})")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
