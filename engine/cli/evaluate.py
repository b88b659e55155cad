"""``cardigan evaluate``: mask fidelity and downstream Dice of a model on a prepared dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .options import add_device_argument, add_model_argument

HELP = "score a model: mask fidelity and downstream segmentation Dice"
DESCRIPTION = (
    "Train a U-Net on the real train split and score synthetic images made from the test "
    "masks (mask fidelity, next to the real test images as the ceiling); train a U-Net on "
    "synthetic pairs only and score it on the real test split (downstream utility). Prints a "
    "table and writes evaluation.json. Try --model simulator as the baseline.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--data", required=True, type=Path, help="prepared dataset folder")
    add_device_argument(parser)
    parser.add_argument("--quick", action="store_true", help="small budgets for a smoke run")
    parser.add_argument("--out", type=Path, default=Path("evaluation.json"), help="report file")
    parser.add_argument("--size", type=int, default=None, help="segmenter resolution (default 128)")
    parser.add_argument("--seg-iters", type=int, default=None, help="U-Net training iterations")
    parser.add_argument("--variations", type=int, default=None,
                        help="synthetic images per train mask (models with randomness)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--inception-weights", default=None, metavar="PATH",
                        help="local torchvision Inception-v3 weights: adds FID and KID")


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from ..errors import CardiganError
    from ..evaluation.evaluate import EvalSettings, evaluate, format_report
    from ..fileio import atomic_path
    from .terminal import TerminalProgress

    settings = EvalSettings.quick(args.seed) if args.quick else EvalSettings(seed=args.seed)
    changes = {k: v for k, v in (("size", args.size), ("seg_iters", args.seg_iters),
                                 ("variations", args.variations)) if v is not None}
    settings = dataclasses.replace(settings, **changes)
    if settings.size % 8 or settings.size < 16:
        raise CardiganError("--size must be a multiple of 8, at least 16")
    if not args.out.parent.exists():
        raise CardiganError(f"{args.out.parent}: output folder does not exist")
    bars = TerminalProgress()
    try:
        report = evaluate(args.model, args.data, settings, device=args.device,
                          inception_weights=args.inception_weights, progress=bars)
    finally:
        bars.close()
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    print(format_report(report))
    print(f"wrote {args.out}")
    return 0
