"""A loaded model described in words, apart from the model panel: its network, size and inputs
in short lines, its output settings, its provenance, and the table of them as HTML (a key above
its value where the column is too narrow) or as plain text for the clipboard; long paths and
hashes get break points so they wrap inside a narrow panel."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Container

from PySide6.QtGui import QFontMetrics

from engine.units import format_bytes

from .. import theme

SETTINGS_LINK = "#output-settings"

KINDS = {"native": "cardiGAN model file", "nvlabs": "NVlabs SPADE checkpoint", "simulator": "built in"}


def format_count(n: int) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.1f} M"
    if n >= 1e3:
        return f"{n / 1e3:.1f} k"
    return str(n)


def file_size(summary: dict) -> int | None:
    """The size of the model's file in bytes; None for a built-in model or a file gone."""
    path = summary.get("path")
    try:
        return os.path.getsize(path) if path else None
    except OSError:
        return None


def network_line(arch: dict) -> str:
    """The network in one short line: modulation, width, normalisation (and the number of
    upsampling layers when it is not SPADE's usual one)."""
    parts = [str(arch.get("modulation", "spade")).upper(), f"ngf {arch.get('ngf')}", f"{arch.get('norm')} norm"]
    if arch.get("upsampling") not in (None, "normal"):
        parts.append(f"{arch['upsampling']} upsampling")
    return " \u00b7 ".join(parts)


def size_line(summary: dict, size_bytes: int | None = None) -> str:
    """The network's parameters and its file's size, as far as they are known."""
    parts = []
    if summary.get("parameters"):
        parts.append(f"{format_count(int(summary['parameters']))} parameters".replace(" ", "\u00a0", 1))
    if size_bytes:
        parts.append(f"{format_bytes(size_bytes)} file".replace(" ", "\u00a0", 1))
    return " \u00b7 ".join(parts)


def inputs_line(arch: dict) -> str:
    """What the network takes besides the mask: the fan, noise, a style code."""
    parts = ["mask"]
    if arch.get("fan"):
        parts.append("the fan")
    if arch.get("noise_nc"):
        noise = f"noise {arch['noise_nc']} ch"
        if arch.get("style_scale", 1.0) != 1.0:
            noise += f" (style scale {arch['style_scale']:g})"
        parts.append(noise)
    if arch.get("use_vae"):
        parts.append(f"style code (VAE, z {arch.get('z_dim')})")
    return " \u00b7 ".join(parts)


def _span(values) -> str:
    """The lowest and highest of a setting's values, as "0.84\u20131.00"."""
    return f"{min(values):.2f}\u2013{max(values):.2f}"


def output_settings(summary: dict) -> list[str]:
    """The settings of the model's output stage, one short phrase each (empty for a plain
    SPADE generator and for the simulator)."""
    arch = summary.get("architecture") or {}
    if "type" in arch:
        return []
    items = []
    if arch.get("upsample") == "bilinear":
        items.append("bilinear upsampling")
    if arch.get("texture"):
        items.append("speckle path")
    if arch.get("beam"):
        items.append(f"speckle along the arcs ({arch['beam']:g}\u00b0)")
    if arch.get("grain"):
        items.append(f"pixel grain ({arch['grain']:g} grey levels)")
    if arch.get("tone", 1.0) != 1.0:
        items.append(f"output tone \u03b3 {arch['tone']:g}")
    if arch.get("depth_gain"):
        items.append(f"depth gain {_span(arch['depth_gain'])}")
    if arch.get("tip_gain"):
        items.append(f"tip gain over {len(arch['tip_gain'])} px")
    if arch.get("speckle_shape"):
        items.append(f"speckle shaped by depth ({len(arch['speckle_shape'])} points)")
    if arch.get("fine_filter"):
        size = len(arch["fine_filter"])
        items.append(f"fine speckle filtered ({size}\u00d7{size})")
    if arch.get("pool_detail"):
        items.append(f"pool speckle by depth ({_span(arch['pool_detail'])})")
    if arch.get("ring_down"):
        items.append(f"ring-down per seed ({len(arch['ring_down'])} directions)")
    if arch.get("border_soften") and any(arch["border_soften"]):
        items.append("drawn borders faded in patches")
    if arch.get("shading"):
        items.append(f"shading per seed ({len(arch['shading']) - 1} directions)")
    if summary.get("refiner_parameters"):
        reach = summary.get("refiner_near_field")
        where = f", top {reach:.0%} of the depth" if reach else ""
        items.append(f"texture refiner ({format_count(int(summary['refiner_parameters']))} parameters{where})")
    return items


def model_rows(summary: dict, size_bytes: int | None = None) -> list[tuple[str, str]]:
    """What the model is and does, above its output settings."""
    rows = [("Kind", KINDS.get(summary.get("kind", ""), summary.get("kind", "")))]
    arch = summary.get("architecture") or {}
    if "type" in arch:
        rows.append(("Method", arch["type"]))
    else:
        rows.append(("Network", network_line(arch)))
        if size_line(summary, size_bytes):
            rows.append(("Size", size_line(summary, size_bytes)))
        rows.append(("Inputs", inputs_line(arch)))
    if summary.get("image_size"):
        h, w = summary["image_size"]
        rows.append(("Native size", f"{w} \u00d7 {h} (other sizes resampled)"))
    channels = int(summary.get("output_channels", 1))
    rows.append(("Output", f"{channels} channel" + ("" if channels == 1 else "s")))
    rows.append(("Seed changes output", "yes" if summary.get("stochastic") else "no (deterministic)"))
    return rows


def provenance_rows(summary: dict) -> list[tuple[str, str]]:
    """Where the model comes from (training, data, licence) and its file, below the settings;
    a record that only repeats the model's kind is left out."""
    rows = []
    skip = {"sha256", "file"} if summary.get("path") else {"sha256"}
    kind = KINDS.get(summary.get("kind", ""), summary.get("kind", ""))
    for key, value in (summary.get("provenance") or {}).items():
        if isinstance(value, (str, int, float)) and key not in skip and str(value) != kind:
            rows.append((key.replace("_", " ").capitalize(), str(value)))
    if summary.get("path"):
        rows.append(("Path", str(summary["path"])))
    return rows


def rows_html(rows: list[tuple[str, str]], stacked: bool = False) -> str:
    """``rows`` (key, HTML value) as a small two-column table, or with each key above its value
    when ``stacked`` (a panel too narrow for the two columns)."""
    if stacked:
        cells = "".join(f"<tr><td style='color:{theme.MUTED}'>{html.escape(k)}</td></tr>"
                        f"<tr><td style='padding-left:{KEY_GAP}px;padding-bottom:3px'>{v}</td></tr>" for k, v in rows)
    else:
        cells = "".join(f"<tr><td style='color:{theme.MUTED};padding-right:{KEY_GAP}px;vertical-align:top'>"
                        f"{html.escape(k)}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<table width='100%' cellspacing='0' cellpadding='{TABLE_CELL_PADDING}'>{cells}</table>"


def settings_html(settings: list[str], shown: bool) -> str:
    """The output settings' value in the table: their count and a link that opens the list,
    or the list, one a line, and a link that folds it."""
    if not shown:
        return f"{len(settings)} \u00b7 <a href='{SETTINGS_LINK}'>show</a>"
    lines = "".join(f"\u2022 {breakable(item)}<br>" for item in settings)
    return f"{lines}<a href='{SETTINGS_LINK}'>hide</a>"


def summary_html(summary: dict, size_bytes: int | None = None, settings_shown: bool = False,
                 stacked: bool = False, whole: Container[str] = ()) -> str:
    """The model's summary as a small two-column table (each key above its value when
    ``stacked``): what it is, its output settings (a count, or the list when
    ``settings_shown``), where it comes from; the names in a path that are in ``whole`` are
    not broken (:func:`with_breaks`)."""
    rows = [(k, breakable(v, whole)) for k, v in model_rows(summary, size_bytes)]
    settings = output_settings(summary)
    if settings:
        rows.append(("Output settings", settings_html(settings, settings_shown)))
    rows += [(k, breakable(v, whole)) for k, v in provenance_rows(summary)]
    return rows_html(rows, stacked)


def path_names(summary: dict) -> list[str]:
    """The parts of the paths in the summary's values, each with the separator after it
    ("scripts/", "build_camus_model.sh"): what a path wraps between."""
    values = [v for _, v in model_rows(summary) + provenance_rows(summary)]
    return [part for value in values for word in value.split() if PATH_SEPARATOR.search(word)
            for part in re.split(r"(?<=[/\\])", word) if part]


def widest_unbroken(texts: list[str], metrics: QFontMetrics) -> int:
    """The width of the widest part of ``texts`` that cannot wrap (between spaces and the breaks
    :func:`with_breaks` puts in)."""
    return max((metrics.horizontalAdvance(part) for text in texts
                for part in re.split(r"[\s\u200b]+", with_breaks(text)) if part), default=0)


def table_least_width(summary: dict, size_bytes: int | None, settings_shown: bool, metrics: QFontMetrics) -> int:
    """The least width the two-column summary table needs without cutting a value short: its
    widest key word, the gap, its widest value word and the cells' padding."""
    rows = model_rows(summary, size_bytes) + provenance_rows(summary)
    settings = output_settings(summary)
    if settings:
        rows.append(("Output settings", f"{len(settings)} \u00b7 show"))
    values = [v for _, v in rows] + ([f"\u2022 {item}" for item in settings] if settings_shown else [])
    return (widest_unbroken([k for k, _ in rows], metrics) + KEY_GAP + widest_unbroken(values, metrics)
            + 4 * TABLE_CELL_PADDING)


def summary_text(summary: dict, size_bytes: int | None = None) -> str:
    """Everything the panel says about the model as plain text, one fact a line."""
    lines = [f"{key}: {value}" for key, value in model_rows(summary, size_bytes)]
    settings = output_settings(summary)
    if settings:
        lines.append("Output settings:")
        lines += [f"  - {item}" for item in settings]
    lines += [f"{key}: {value}" for key, value in provenance_rows(summary)]
    return "\n".join(lines)


LONGEST_UNBROKEN = 16  # characters of a path, hash or word before a possible line break
PATH_SEPARATOR = re.compile(r"[/\\]")
KEY_GAP = 8  # pixels between a key and its value in the summary table
TABLE_CELL_PADDING = 1  # pixels around each cell's text in the summary table


def with_breaks(text: str, whole: Container[str] = ()) -> str:
    """``text`` with zero-width spaces where a narrow panel may wrap it: after path separators
    and, in a word, after "_" and inside long unbroken runs (checksums, file names). A part of
    a path in ``whole`` (one that fits the panel's line, with its separator) is left whole, so
    the path wraps at its separators and no name in it is cut in two."""
    def split(word: str) -> str:
        pieces = [word[i:i + LONGEST_UNBROKEN] for i in range(0, len(word), LONGEST_UNBROKEN)]
        return "\u200b".join(pieces)

    def broken(word: str) -> str:
        word = re.sub(r"[/_\\]", lambda m: m.group(0) + "\u200b", word)
        return re.sub(rf"[^\s\u200b]{{{LONGEST_UNBROKEN + 1},}}", lambda m: split(m.group(0)), word)

    def path(word: str) -> str:
        parts = [part for part in re.split(r"(?<=[/\\])", word) if part]
        return "\u200b".join(part if part in whole else broken(part).rstrip("\u200b") for part in parts)

    return "".join(path(word) if PATH_SEPARATOR.search(word) else broken(word) for word in re.split(r"(\s+)", text))


def breakable(text: str, whole: Container[str] = ()) -> str:
    """``text`` as HTML that can wrap anywhere a narrow panel needs (:func:`with_breaks`)."""
    return html.escape(with_breaks(text, whole)).replace("\u200b", "&#8203;")
