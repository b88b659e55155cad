"""``cardigan bench``: synthesis latency/throughput and training speed, optimised vs plain.

stdout carries the summary table, then the JSON report; with ``--out`` the report goes to that
file instead and stdout says where, as ``cardigan evaluate`` does, so the table is all a reader
of the terminal or a log sees."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..bench_settings import quick_reductions
from .options import add_device_argument, check_report_file, int_in_range

HELP = "measure synthesis and training speed (optimised path vs the plain network)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_argument(parser)
    parser.add_argument("--quick", action="store_true", help=quick_reductions())
    parser.add_argument("--no-training", action="store_true", help="skip the training figure")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the JSON report here instead of after the summary on stdout (an "
                             "existing file only with --overwrite)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier bench report in --out (never another kind of file)")
    parser.add_argument("--threads", type=int_in_range(1, 1024), default=None, metavar="N",
                        help="CPU threads (default: PyTorch's choice); every figure, the peaks too, "
                             "uses the same number")
    parser.add_argument("--no-incremental", action="store_true", help="skip the incremental synthesis figure")
    parser.add_argument("--presets", default="lite,seed", metavar="A,B",
                        help="training presets to measure (default lite,seed)")


def run(args: argparse.Namespace) -> int:
    from ..bench import format_bench, run_bench
    from ..fileio import atomic_path
    from .terminal import TerminalProgress

    import dataclasses

    import torch

    from ..bench import BenchSettings
    from ..devices import resolve_device
    from ..errors import CardiganError
    from ..training.config import PRESETS

    if args.out:
        check_report_file(args.out, args.overwrite, REPORT_KEYS, "a bench report")  # before minutes of work
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    presets = tuple(p.strip() for p in args.presets.split(",") if p.strip())
    if not presets and not args.no_training:
        raise CardiganError("--presets names no preset (or add --no-training)")
    unknown = [p for p in presets if p not in PRESETS]
    if unknown:
        raise CardiganError(f"unknown preset(s) {', '.join(unknown)} (choose from {', '.join(PRESETS)})")
    settings = BenchSettings.for_device(resolve_device(args.device), args.quick)
    settings = dataclasses.replace(settings, train_presets=presets,
                                   dabs=0 if args.no_incremental else settings.dabs)
    bars = TerminalProgress()
    try:
        report = run_bench(args.device, args.quick, bars, training=not args.no_training, settings=settings)
    finally:
        bars.close()
    text = json.dumps(report, indent=2)
    if args.out:
        with atomic_path(args.out) as tmp:
            tmp.write_text(text + "\n")
    print(format_bench(report))
    print(f"wrote {args.out}" if args.out else text)
    return 0


REPORT_KEYS = {"machine", "settings", "synthesis"}  # what marks an earlier bench report
