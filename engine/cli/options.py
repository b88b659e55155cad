"""Arguments several subcommands share, worded once."""

from __future__ import annotations

import argparse


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="demo, simulator, a .safetensors model or an NVlabs *_net_G.pth")


def add_device_argument(parser: argparse.ArgumentParser, default: str | None = "auto") -> None:
    parser.add_argument("--device", default=default, help="auto, cpu, cuda, cuda:N or mps")
