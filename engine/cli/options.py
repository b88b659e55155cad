"""Arguments several subcommands share, worded once."""

from __future__ import annotations

import argparse


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="demo, simulator, a .safetensors model or an NVlabs *_net_G.pth")


def add_device_argument(parser: argparse.ArgumentParser, default: str | None = "auto") -> None:
    parser.add_argument("--device", default=default, help="auto, cpu, cuda, cuda:N or mps")


def check_output_file(path, flag: str = "--out") -> None:
    """Refuse, before any work, an output file whose folder is missing or that is a folder."""
    from pathlib import Path

    from ..errors import CardiganError

    path = Path(path)
    if path.is_dir():
        raise CardiganError(f"{flag} {path}: is a folder; name a file")
    if not path.parent.is_dir():
        raise CardiganError(f"{flag} {path}: the folder {path.parent} does not exist")
