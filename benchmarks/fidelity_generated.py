"""Does a model draw what it is given on generated hearts as well as on real masks?

    python benchmarks/fidelity_generated.py --data data/camus256 --model demo --count 200

The U-Net ``cardigan evaluate`` trains on the real train split (taken from its cache, or
trained once) segments images the model makes from ``--count`` shape-model masks (both
views, ED and ES, the median fan) and from the real evaluation masks (with their own fans);
mean Dice over LV, myocardium and LA against the masks, for both.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli.options import int_in_range  # noqa: E402
from engine.anatomy import ShapeModel  # noqa: E402
from engine.evaluation.cache import SegmenterCache, segmenter_key  # noqa: E402
from engine.evaluation.evaluate import (EvalSettings, choose_split, load_split_with_fans, resize_all,  # noqa: E402
                                        synthesize_all)
from engine.evaluation.metrics import dice_per_class  # noqa: E402
from engine.evaluation.segmenter import segment, train_segmenter  # noqa: E402
from engine.progress import never_stop, no_progress  # noqa: E402
from engine.synthesizer import Synthesizer  # noqa: E402

PHASES = (("4CH", "ED"), ("4CH", "ES"), ("2CH", "ED"), ("2CH", "ES"))


def generated_masks(count: int, size: int) -> np.ndarray:
    model = ShapeModel.default()
    masks = []
    for seed in range(count // len(PHASES)):
        heart = model.draw(seed)
        masks.extend(model.mask(heart, view, phase, size) for view, phase in PHASES)
    return np.stack(masks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--model", required=True)
    parser.add_argument("--count", type=int_in_range(4, 100_000), default=200)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    settings = EvalSettings()
    split, _ = choose_split(args.data, None)
    train_img, train_lab, _, _ = load_split_with_fans(args.data, "train", None)
    test_img, test_lab, _, test_fans = load_split_with_fans(args.data, split, None)
    train_img_s, train_lab_s = resize_all(train_img, train_lab, settings.size)
    cache = SegmenterCache()
    key = segmenter_key(train_img_s, train_lab_s, settings.segmenter_settings())
    unet = cache.load(key, settings.seg_width)
    if unet is None:
        unet = train_segmenter(train_img_s, train_lab_s, iters=settings.seg_iters, width=settings.seg_width,
                               seed=settings.seed, device="cpu")
        cache.store(key, unet)
    synth = Synthesizer(args.model, device=args.device)
    size = test_lab.shape[-1]
    masks = generated_masks(args.count, size)
    rows = {}
    for name, labels, fans in (("real masks", test_lab, test_fans), ("shape-model masks", masks, None)):
        images = synthesize_all(synth, labels, settings.seed, name, no_progress, never_stop, fans=fans)
        images_s, labels_s = resize_all(images, labels, settings.size)
        rows[name] = dice_per_class(segment(unet, images_s), labels_s)
    for name, dice in rows.items():
        print(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in dice.items()))
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
