"""``cardigan bench``: synthesis latency/throughput and training speed, optimised vs plain."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .options import add_device_argument, check_output_file

HELP = "measure synthesis and training speed (optimised path vs the plain network)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_argument(parser)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-training", action="store_true", help="skip the training figure")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON report here")


def run(args: argparse.Namespace) -> int:
    from ..bench import format_bench, run_bench
    from ..fileio import atomic_path
    from .terminal import TerminalProgress

    if args.out:
        check_output_file(args.out)
    bars = TerminalProgress()
    try:
        report = run_bench(args.device, args.quick, bars, training=not args.no_training)
    finally:
        bars.close()
    text = json.dumps(report, indent=2)
    if args.out:
        with atomic_path(args.out) as tmp:
            tmp.write_text(text + "\n")
    print(format_bench(report))
    print(text)
    return 0
