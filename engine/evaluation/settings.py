"""The budgets of an evaluation run (:class:`EvalSettings`) and what ``--quick`` shrinks.

Apart from :mod:`engine.evaluation.evaluate`, which runs the networks, so that the command
line's help can give the budgets from here without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..data.border_jitter import DEFAULT_JITTER


@dataclass(frozen=True)
class EvalSettings:
    """Budgets of an evaluation run; ``quick()`` shrinks them (every field is still reported)."""

    size: int = 128  # resolution the segmenters and the two-sample classifier work at
    seg_iters: int = 800
    seg_width: int = 16
    variations: int = 2
    max_train: int | None = None  # cap on train pairs (None: all)
    max_test: int | None = None  # cap on evaluation pairs
    seed: int = 0
    two_sample_iters: int = 300
    # classifiers (seeds seed, seed + 1, ...) whose two-sample AUCs are averaged: one classifier's
    # AUC moves by a few hundredths with its seed, and now and then by 0.2 (docs/realism.md)
    two_sample_seeds: int = 3
    diversity_masks: int = 16
    diversity_seeds: int = 8
    sector_images: int = 60  # images whose support gets a sector fitted (0.3 s each)
    # downstream set only: images drawn from jittered masks, as `cardigan export` makes them by default
    border_jitter: float = DEFAULT_JITTER
    auc_parts: bool = True  # the two-sample test again on each part of the images (engine/evaluation/auc_parts.py)
    cine_loops: int = 3  # shape-model loops whose steadiness is measured (engine/evaluation/cine_check.py); 0: none
    cine_frames: int = 16

    @classmethod
    def quick(cls, seed: int = 0) -> "EvalSettings":
        # each budget as small as still measures every field: 24 train pairs are 6 CAMUS patients,
        # enough for the two-sample test's real-vs-real check (4 or more); 12 evaluation pairs, 3
        return cls(size=64, seg_iters=60, seg_width=8, variations=1, max_train=24, max_test=12,
                   seed=seed, two_sample_iters=30, two_sample_seeds=1, diversity_masks=2, diversity_seeds=2,
                   sector_images=4, cine_loops=1, cine_frames=6)

    def segmenter_settings(self) -> dict:
        """What the real-trained U-Net depends on (its cache key, with the data)."""
        return {"size": self.size, "seg_iters": self.seg_iters, "seg_width": self.seg_width,
                "seed": self.seed}


# what a quick run costs on a small machine, measured (`cardigan evaluate --model demo --quick
# --device cpu` on 256 px phantom data, a 2-core CPU other work shared; docs/evaluation.md)
QUICK_DURATION = ("It runs on one CPU thread unless --threads says otherwise (the networks are small, and "
                  "two threads on busy cores wait on each other): about 30-45 seconds on a 2-core CPU "
                  "that other work shares")
QUICK_NOTE = "quick figures are rough, for a smoke run, and not comparable with a full run's"
QUICK_THREADS = 1  # torch CPU threads of a quick run without --threads


def quick_reductions() -> str:
    """What ``EvalSettings.quick()`` shrinks, against the full run, in words for a help."""
    full, quick = EvalSettings(), EvalSettings.quick()
    return (f"only the first {quick.max_train} train and {quick.max_test} evaluation pairs; networks at "
            f"{quick.size} px (not {full.size}); U-Nets {quick.seg_width} channels wide trained "
            f"{quick.seg_iters} iterations (not {full.seg_width} and {full.seg_iters}); "
            f"{quick.two_sample_seeds} two-sample classifier of {quick.two_sample_iters} iterations (not "
            f"{full.two_sample_seeds} of {full.two_sample_iters}); diversity over {quick.diversity_masks} masks "
            f"x {quick.diversity_seeds} seeds (not {full.diversity_masks} x {full.diversity_seeds}); "
            f"{quick.sector_images} fan fits (not {full.sector_images}); {quick.cine_loops} cine loop of "
            f"{quick.cine_frames} frames (not {full.cine_loops} of {full.cine_frames}). Nothing is skipped: "
            f"every field is still reported, but {QUICK_NOTE}. {QUICK_DURATION}")


def budget(name: str) -> str:
    """Field ``name``'s budget in words for a help: "default 128; 64 with --quick"."""
    return f"default {getattr(EvalSettings(), name)}; {getattr(EvalSettings.quick(), name)} with --quick"
