"""``cardigan evaluate``: mask fidelity and downstream Dice of a model on a prepared dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.border_jitter import DEFAULT_JITTER
from ..evaluation.settings import QUICK_NOTE, QUICK_THREADS, budget, quick_reductions
from ..evaluation import MAX_TWO_SAMPLE_SEEDS
from .options import (add_device_argument, add_model_argument, check_dataset_folder, check_output_file,
                      check_report_file, int_in_range, seed_value)

HELP = "score a model: mask fidelity, downstream segmentation Dice and realism"
DESCRIPTION = (
    "Train a U-Net on the real train split and score synthetic images made from the "
    "evaluation masks (mask fidelity, next to the real images as the ceiling); train a U-Net "
    "on synthetic pairs only and score it on the real evaluation images (downstream utility). "
    "Dice per class and as CAMUS papers report it (endocardium, epicardium, atrium). Realism "
    "with nothing downloaded: grey levels per region, a classifier two-sample test (ROC AUC, "
    "0.5 = indistinguishable; where its evidence lies, by place in the fan; again on parts "
    "of the images: where it finds its cue) and "
    "diversity across seeds. The evaluation split is test, or valid when the dataset has no "
    "test split, or --split. The real-trained U-Net is cached "
    "per data and settings, so a second model on the same data is faster. Prints a table and "
    "writes evaluation.json. Try --model simulator as the baseline.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--data", required=True, type=Path, help="prepared dataset folder")
    add_device_argument(parser)
    parser.add_argument("--split", choices=("valid", "test"), default=None,
                        help="split to score on (default: test, or valid when there is no test split)")
    parser.add_argument("--quick", action="store_true",
                        help=f"small budgets for a smoke run: {quick_reductions()}")
    parser.add_argument("--out", type=Path, default=Path("evaluation.json"),
                        help="report file (default evaluation.json)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out if it holds an earlier evaluation report")
    parser.add_argument("--size", type=int_in_range(16, 1024, multiple_of=8), default=None,
                        help=f"resolution of the segmenters and the two-sample classifier ({budget('size')})")
    parser.add_argument("--seg-iters", type=int_in_range(1, 1_000_000), default=None,
                        help=f"U-Net training iterations ({budget('seg_iters')})")
    parser.add_argument("--variations", type=int_in_range(1, 100), default=None,
                        help=f"synthetic images per train mask (models with randomness; {budget('variations')})")
    parser.add_argument("--border-jitter", type=float, default=None, metavar="PX",
                        help="draw the downstream training images from masks whose borders are moved "
                             "smoothly by about PX pixels, the pairs keeping the true masks (as export "
                             f"--border-jitter, whose default it shares: {DEFAULT_JITTER:g}; 0 draws them from "
                             "the masks as "
                             "they are); fidelity, grey levels and the tells are unchanged, the two-sample "
                             "test sees these images")
    parser.add_argument("--two-sample-seeds", type=int_in_range(1, MAX_TWO_SAMPLE_SEEDS), default=None, metavar="N",
                        help=f"two-sample classifiers (seeds) whose AUCs are averaged ({budget('two_sample_seeds')}): "
                             "one classifier's AUC moves with its seed")
    parser.add_argument("--no-auc-parts", action="store_true",
                        help="skip the two-sample test on parts of the images (near field, fan edge, "
                             "background, heart, coarse layout), which says where the classifier finds its "
                             "cue; five more classifier runs")
    parser.add_argument("--cine-loops", type=int_in_range(0, 100), default=None, metavar="N",
                        help="shape-model cine loops whose steadiness is measured (flicker, far-field "
                             f"flicker, brightness jumps, speckle tracking; {budget('cine_loops')}; 0 skips)")
    parser.add_argument("--seed", type=seed_value, default=0,
                        help="seed of the synthetic images and the networks' training (default 0)")
    parser.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                        help="where real-trained U-Nets are kept (default: $CARDIGAN_CACHE_DIR or "
                             "~/.cache/cardigan)")
    parser.add_argument("--no-cache", action="store_true",
                        help="always train the real-data U-Net afresh (and do not store it)")
    parser.add_argument("--threads", type=int_in_range(1, 1024), default=None, metavar="N",
                        help="CPU threads for the networks (default: PyTorch's choice, or 1 with --quick); use 1 "
                             "when other heavy processes share the cores, where more threads wait on each other")
    parser.add_argument("--inception-weights", default=None, metavar="PATH",
                        help="local torchvision Inception-v3 weights: adds FID and KID")


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from ..errors import CardiganError
    import tempfile

    from ..data.border_jitter import jitter_problem
    from ..evaluation.cache import SegmenterCache
    from ..evaluation.evaluate import EvalSettings, evaluate, format_report
    from ..fileio import atomic_path
    from .terminal import TerminalProgress

    settings = EvalSettings.quick(args.seed) if args.quick else EvalSettings(seed=args.seed)
    changes = {k: v for k, v in (("size", args.size), ("seg_iters", args.seg_iters),
                                 ("variations", args.variations),
                                 ("border_jitter", args.border_jitter),
                                 ("two_sample_seeds", args.two_sample_seeds),
                                 ("cine_loops", args.cine_loops)) if v is not None}
    if args.no_auc_parts:
        changes["auc_parts"] = False
    settings = dataclasses.replace(settings, **changes)
    if settings.size % 8 or settings.size < 16:
        raise CardiganError("--size must be a multiple of 8, at least 16")
    if settings.seg_iters < 1:
        raise CardiganError("--seg-iters must be at least 1")
    if settings.variations < 1:
        raise CardiganError("--variations must be at least 1")
    if jitter_problem(settings.border_jitter):
        raise CardiganError(f"--border-jitter {jitter_problem(settings.border_jitter)}")
    if args.inception_weights is not None:
        from ..safeload import looks_like_torch_file

        if not Path(args.inception_weights).is_file():
            raise CardiganError(f"{args.inception_weights}: no such Inception-v3 weights file")
        if not looks_like_torch_file(Path(args.inception_weights)):
            raise CardiganError(f"{args.inception_weights}: not an Inception-v3 weights file "
                                "(not a file written by torch.save)")
    check_dataset_folder(args.data)
    if args.cache_dir is not None:
        check_cache_folder(args.cache_dir)
    check_report_output(args.out, args.overwrite, args.model, args.data)
    threads = QUICK_THREADS if args.quick and args.threads is None else args.threads
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    bars = TerminalProgress()
    with tempfile.TemporaryDirectory(prefix="cardigan-eval-") as scratch:
        cache = SegmenterCache(scratch if args.no_cache else args.cache_dir)
        try:
            report = evaluate(args.model, args.data, settings, device=args.device,
                              inception_weights=args.inception_weights, progress=bars,
                              split=args.split, cache=cache)
        finally:
            bars.close()
    from ..evaluation.report_json import report_text

    with atomic_path(args.out) as tmp:
        tmp.write_text(report_text(report))
    print(format_report(report))
    if args.quick:
        print(f"--quick: {QUICK_NOTE}")
    print(f"wrote {args.out}")
    return 0


def check_cache_folder(folder: Path) -> None:
    """Refuse a --cache-dir that is a file, or lies under one, which the cache would skip
    without a word: a missing folder is made when a U-Net is stored."""
    from ..errors import CardiganError

    for path in (folder, *folder.parents):
        if path.exists():
            if not path.is_dir():
                where = "is a file" if path == folder else f"lies under the file {path}"
                raise CardiganError(f"--cache-dir {folder}: {where}; give a folder for the cached U-Nets "
                                    "(a missing one is made)")
            return


REPORT_KEYS = {"model", "data", "fidelity", "downstream"}


def check_report_output(out: Path, overwrite: bool, model: str, data: Path) -> None:
    """Before any work: --out is never what the evaluation reads (the model, a file of the
    dataset), an existing file is replaced only with --overwrite and only if it is an earlier
    report, and its folder is writable."""
    from ..errors import CardiganError

    check_output_file(out)
    target = out.resolve()
    model_path = Path(model).expanduser().resolve()
    if model_path.exists() and (target == model_path or model_path in target.parents):
        raise CardiganError(f"--out {out}: is the model being evaluated; write the report elsewhere")
    if data.resolve() in target.parents:
        raise CardiganError(f"--out {out}: is inside the dataset being evaluated; write the report elsewhere")
    check_report_file(out, overwrite, REPORT_KEYS, "an evaluation report")
