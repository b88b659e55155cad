"""The device picker the studio, the training wizard and the export dialog share."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox


def device_text(spec: str) -> str:
    """How the studio names the engine's device ``spec`` ("cpu", "cuda:1", "mps"), as the
    picker lists it: "CPU", "CUDA 1", "MPS"; another spec as it is."""
    kind, _, index = spec.partition(":")
    if kind == "cuda":
        return f"CUDA {index}" if index else "CUDA"
    return {"cpu": "CPU", "mps": "MPS"}.get(kind, spec)


def fill_device_combo(combo: QComboBox, auto_text: str = "Auto", show_unavailable: bool = False) -> None:
    """Auto, CPU, each CUDA device and MPS, with the engine's device spec as item data.

    With ``show_unavailable``, CUDA and MPS are listed even on a machine without them,
    disabled, so users see what the app could use elsewhere.
    """
    from engine.devices import available_devices  # torch: loaded once a picker is filled

    available = available_devices()
    cudas = [d for d in available if d.startswith("cuda")]
    entries = [(auto_text, "auto", True), ("CPU", "cpu", True)]
    entries += [(device_text(d), d, True) for d in cudas]
    if not cudas and show_unavailable:
        entries.append(("CUDA (not available)", "cuda", False))
    mps = "mps" in available
    if mps or show_unavailable:
        entries.append(("MPS" if mps else "MPS (not available)", "mps", mps))
    for text, spec, enabled in entries:
        combo.addItem(text, spec)
        if not enabled:
            item = combo.model().item(combo.count() - 1)
            item.setEnabled(False)
            item.setToolTip("Not available on this machine")
