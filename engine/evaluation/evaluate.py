"""How good is a model? Mask fidelity and downstream utility on a prepared dataset.

- mask fidelity: a U-Net trained on the real train split segments synthetic images made
  from the test masks; Dice against those masks, next to the same U-Net on the real test
  images (the ceiling).
- downstream utility: a U-Net trained only on synthetic pairs (train masks x K variations)
  is scored on the real test split, next to the one trained on real pairs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.dataset import PairedDataset
from ..data.imaging import resize_image, resize_labels
from ..data.manifest import manifest_checksum
from ..errors import DataError
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress
from ..synthesizer import Synthesizer, to_uint8
from .metrics import dice_per_class
from .segmenter import segment, train_segmenter


@dataclass(frozen=True)
class EvalSettings:
    """Budgets of an evaluation run; ``quick()`` shrinks them for smoke runs."""

    size: int = 128  # resolution the segmenters work at
    seg_iters: int = 800
    seg_width: int = 16
    variations: int = 2
    max_train: int | None = None  # cap on train pairs (None: all)
    max_test: int | None = None
    seed: int = 0

    @classmethod
    def quick(cls, seed: int = 0) -> "EvalSettings":
        return cls(size=64, seg_iters=120, seg_width=8, variations=1, max_train=48, max_test=24,
                   seed=seed)


def load_split(root: Path, split: str, limit: int | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images uint8 (N, H, W), labels uint8 (N, H, W), stems) of one split at its stored size."""
    dataset = PairedDataset(root, split)
    count = len(dataset) if limit is None else min(limit, len(dataset))
    if count == 0:
        raise DataError(f"{root}: the {split} split is empty")
    pairs = [dataset.load_pair(i) for i in range(count)]
    return (np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]),
            dataset.stems[:count])


def resize_all(images: np.ndarray | None, labels: np.ndarray | None, size: int):
    img = None if images is None else np.stack([resize_image(i, size) for i in images])
    lab = None if labels is None else np.stack([resize_labels(m, size) for m in labels])
    return img, lab


def synthesize_all(synth: Synthesizer, masks: np.ndarray, seed: int, stage: str,
                   progress: ProgressCallback, should_stop: StopCheck, batch: int = 8) -> np.ndarray:
    """Synthetic uint8 images for (N, H, W) masks, mask i with seed ``seed + i``."""
    out = []
    for start in range(0, len(masks), batch):
        if should_stop():
            raise Cancelled()
        chunk = synth.synthesize(masks[start:start + batch], seed=seed + start)
        out.extend(to_uint8(image) for image in chunk)
        progress(Progress(stage, min(start + batch, len(masks)), len(masks)))
    return np.stack(out)


def fit_masks_to_model(synth: Synthesizer, masks: np.ndarray) -> np.ndarray:
    """Resize masks (nearest) to the model's training size when it cannot take theirs."""
    if synth.model.check_input_size(*masks.shape[1:]) is None:
        return masks
    height, width = synth.model.image_size
    return np.stack([resize_labels(m, width) for m in masks]) if height == width else masks


def evaluate(model, data: Path | str, settings: EvalSettings = EvalSettings(), device: str = "auto",
             inception_weights: str | None = None, progress: ProgressCallback = no_progress,
             should_stop: StopCheck = never_stop) -> dict:
    """Run both protocols; returns the ``evaluation.json`` document."""
    started = time.perf_counter()
    root = Path(data)
    synth = model if isinstance(model, Synthesizer) else Synthesizer(model, device=device)
    train_img, train_lab, _ = load_split(root, "train", settings.max_train)
    test_img, test_lab, _ = load_split(root, "test", settings.max_test)
    s = settings.size
    train_img_s, train_lab_s = resize_all(train_img, train_lab, s)
    test_img_s, test_lab_s = resize_all(test_img, test_lab, s)
    seg_device = synth.device if synth.device.type != "mps" else "cpu"

    def fit(images, labels, stage):
        return train_segmenter(images, labels, iters=settings.seg_iters, width=settings.seg_width,
                               seed=settings.seed, device=seg_device, progress=progress,
                               should_stop=should_stop, stage=stage)

    real_seg = fit(train_img_s, train_lab_s, "segmenter on real pairs")
    ceiling = dice_per_class(segment(real_seg, test_img_s), test_lab_s)

    test_masks = fit_masks_to_model(synth, test_lab)
    synthetic_test = synthesize_all(synth, test_masks, settings.seed, "synthesizing test masks",
                                    progress, should_stop)
    synthetic_test_s, _ = resize_all(synthetic_test, None, s)
    fidelity = dice_per_class(segment(real_seg, synthetic_test_s), test_lab_s)

    variations = 1 if not synth.stochastic else settings.variations
    train_masks = fit_masks_to_model(synth, train_lab)
    synth_images, synth_labels = [], []
    for k in range(variations):
        images = synthesize_all(synth, train_masks, settings.seed + 100_000 * (k + 1),
                                f"synthesizing train masks ({k + 1}/{variations})", progress, should_stop)
        synth_images.append(resize_all(images, None, s)[0])
        synth_labels.append(train_lab_s)
    synthetic_seg = fit(np.concatenate(synth_images), np.concatenate(synth_labels),
                        "segmenter on synthetic pairs")
    downstream = dice_per_class(segment(synthetic_seg, test_img_s), test_lab_s)

    fid = None
    if inception_weights:
        from .fid import InceptionFeatures, frechet_distance, kernel_inception_distance

        features = InceptionFeatures(inception_weights, synth.device)
        real_f, fake_f = features(test_img), features(synthetic_test)
        fid = {"fid": frechet_distance(real_f, fake_f), "kid": kernel_inception_distance(real_f, fake_f)}

    summary = synth.model.summary()
    return {
        "model": {"name": summary["name"], "kind": summary["kind"], "path": summary["path"],
                  "parameters": summary["parameters"]},
        "data": {"path": str(root.resolve()), "manifest_sha256": manifest_checksum(root)
                 if (root / "manifest.json").is_file() else None,
                 "train_pairs": int(len(train_img)), "test_pairs": int(len(test_img))},
        "settings": {**settings.__dict__, "variations_used": variations, "device": str(synth.device)},
        "fidelity": {"synthetic": fidelity, "real": ceiling},
        "downstream": {"synthetic_trained": downstream, "real_trained": ceiling},
        "fid": fid,
        "time_s": round(time.perf_counter() - started, 1),
    }


def format_report(report: dict) -> str:
    """The evaluation as a plain-text table."""
    keys = ("lv", "myo", "la", "mean")
    head = f"{'':<44}" + "".join(f"{k:>8}" for k in keys)
    rows = [
        ("mask fidelity: real-trained U-Net on synthetic", report["fidelity"]["synthetic"]),
        ("  ceiling: same U-Net on real test images", report["fidelity"]["real"]),
        ("downstream: U-Net trained on synthetic only", report["downstream"]["synthetic_trained"]),
        ("  reference: U-Net trained on real pairs", report["downstream"]["real_trained"]),
    ]
    lines = [f"model {report['model']['name']} ({report['model']['kind']}) on {report['data']['path']}",
             "Dice per class on the test split", head]
    lines += [f"{name:<44}" + "".join(f"{scores[k]:>8.3f}" for k in keys) for name, scores in rows]
    if report.get("fid"):
        lines.append(f"FID {report['fid']['fid']:.2f}   KID {report['fid']['kid']:.4f}")
    lines.append(f"({report['time_s']} s)")
    return "\n".join(lines)
