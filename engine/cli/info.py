"""``cardigan info``: what a model file holds."""

from __future__ import annotations

import argparse
import json
import textwrap

from .options import add_model_argument

HELP = "describe a model: architecture, parameters, image size, labels, provenance"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the description as JSON")


def run(args: argparse.Namespace) -> int:
    from ..models import open_model

    summary = open_model(args.model).summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(format_summary(summary))
    return 0


WIDTH = 100  # columns the settings are wrapped at


def wrapped_settings(heading: str, items: list[str]) -> list[str]:
    """``items`` joined by commas after ``heading``, in lines of at most :data:`WIDTH`
    columns indented under it: a line breaks between items, and inside one only where the
    item alone is longer than a line (a long tuple of numbers)."""
    indent = " " * len(heading)
    lines, line = [], heading
    for k, item in enumerate(items):
        text = item + ("," if k < len(items) - 1 else "")
        if line.strip() and len(line) + 1 + len(text) > WIDTH and line != heading:
            lines.append(line.rstrip())
            line = indent
        if len(line) + len(text) > WIDTH:  # too long for a line of its own: wrapped inside
            parts = textwrap.wrap(text, WIDTH, initial_indent=line, subsequent_indent=indent,
                                  break_on_hyphens=False)
            lines.extend(parts[:-1])
            line = parts[-1] + " "
        else:
            line += text + " "
    lines.append(line.rstrip())
    return lines


def _setting_text(name: str, value) -> str:
    """An architecture value as ``info`` prints it: the shading (thousands of numbers) and the
    ring-down (a row of 80 offsets per direction) by their count of directions, the fine
    filter by its size."""
    if name == "shading" and value:
        return f"<{len(value) - 1} directions>"
    if name == "ring_down" and value:
        return f"<{len(value)} directions x {len(value[0])} depths>"
    if name == "fine_filter" and value:
        return f"<{len(value)}x{len(value)} kernel>"
    return str(value)


def format_summary(summary: dict) -> str:
    lines = [f"model        {summary['name']} ({summary['kind']})"]
    if summary.get("path"):
        lines.append(f"file         {summary['path']}")
    arch = summary.get("architecture") or {}
    lines.extend(wrapped_settings("architecture ", [f"{k}={_setting_text(k, v)}" for k, v in arch.items()]))
    params = summary["parameters"]
    lines.append(f"parameters   {params:,} ({params / 1e6:.2f} M)"
                 + (f" + encoder {summary['encoder_parameters']:,}" if summary.get("encoder_parameters") else "")
                 + (f" + texture refiner {summary['refiner_parameters']:,}" if summary.get("refiner_parameters") else "")
                 + (f" (near field: top {summary['refiner_near_field']:.0%} of the depth)"
                    if summary.get("refiner_near_field") else ""))
    size = summary.get("image_size")
    native = f"{size[1]}x{size[0]} native (masks of other sizes are resampled)" if size else "any"
    lines.append(f"image size   {native}, "
                 f"{summary['output_channels']} output channel(s), "
                 f"{'varies with the seed' if summary['stochastic'] else 'deterministic'}")
    lines.append("labels       " + ", ".join(f"{lab['id']} {lab['name']}" for lab in summary["labels"]))
    provenance = summary.get("provenance") or {}
    if provenance:
        lines.append("provenance")
        for key, value in provenance.items():
            text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
            lines.append(f"  {key:<18} {text}")
    return "\n".join(printable(line) for line in lines)


def printable(text: str) -> str:
    """``text`` with control characters written as escapes: a model file's names and
    provenance are untrusted, and raw escape sequences would move the cursor, clear the
    terminal or overwrite what ``info`` printed."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
