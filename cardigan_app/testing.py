"""Helpers for driving the app from tests and benchmarks: synthetic input, tiny models."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

LEFT = Qt.MouseButton.LeftButton
NO_BUTTON = Qt.MouseButton.NoButton


def send_mouse(widget: QWidget, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton = LEFT,
               buttons: Qt.MouseButton | None = None,
               modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Deliver one mouse event at widget position ``pos`` straight to ``widget``."""
    if buttons is None:
        buttons = NO_BUTTON if kind == QEvent.Type.MouseButtonRelease else button
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def image_to_widget(view, x: float, y: float) -> QPointF:
    return view.to_widget(QPointF(x, y))


def drag(view, points: Iterable[tuple[float, float]], button: Qt.MouseButton = LEFT,
         process_events: bool = False) -> None:
    """Press at the first image point, move through the others, release at the last."""
    points = list(points)
    first = image_to_widget(view, *points[0])
    send_mouse(view, QEvent.Type.MouseButtonPress, first, button)
    for x, y in points[1:]:
        send_mouse(view, QEvent.Type.MouseMove, image_to_widget(view, x, y), NO_BUTTON, button)
        if process_events:
            QApplication.processEvents()
    last = image_to_widget(view, *points[-1])
    send_mouse(view, QEvent.Type.MouseButtonRelease, last, button, NO_BUTTON)


def click(view, x: float, y: float, button: Qt.MouseButton = LEFT) -> None:
    drag(view, [(x, y)], button)


def double_click(view, x: float, y: float) -> None:
    pos = image_to_widget(view, x, y)
    send_mouse(view, QEvent.Type.MouseButtonPress, pos)
    send_mouse(view, QEvent.Type.MouseButtonRelease, pos, LEFT, NO_BUTTON)
    send_mouse(view, QEvent.Type.MouseButtonDblClick, pos)
    send_mouse(view, QEvent.Type.MouseButtonRelease, pos, LEFT, NO_BUTTON)


def make_model_file(path: Path, ngf: int = 4, image_size: int = 64, seed: int = 0,
                    use_vae: bool = False, norm: str = "instance", noise_nc: int = 0,
                    style_scale: float = 1.0) -> Path:
    """Write a random-weight native model file (a stand-in for a trained one); ``noise_nc``
    noise channels (half of them style channels, spread by ``style_scale``)."""
    import torch

    from engine.models import GeneratorModel, save_model_file
    from engine.nets import GeneratorConfig, SPADEGenerator

    torch.manual_seed(seed)
    config = GeneratorConfig(ngf=ngf, image_size=image_size, norm=norm, use_vae=use_vae, noise_nc=noise_nc,
                             style_scale=style_scale)
    model = GeneratorModel(config=config, generator=SPADEGenerator(config).eval(), name=Path(path).stem)
    return save_model_file(model, path, provenance={"source": "random weights (test)"})


def open_window(qtbot, folder: Path, model: str, size: int = 64, wait: bool = True, backend: str | None = None):
    """A main window with its own settings file and autosave folder, editing a template
    mask of ``size``; waits for the first image when ``wait``. Closed by ``close_window``."""
    from engine.anatomy import template_mask

    from .editing import LabelDocument
    from .main_window import MainWindow
    from .settings import AppSettings

    document = LabelDocument(template_mask("4CH", "ED", seed=1, size=size), origin="test")
    window = MainWindow(settings=AppSettings(Path(folder) / "settings.ini"),
                        autosave_dir=Path(folder) / "autosave", model=model, backend=backend, document=document)
    window.show()  # not qtbot.addWidget: its teardown would close before close_window runs
    qtbot.waitExposed(window)
    if wait:
        qtbot.waitUntil(lambda: window.live.last_result is not None, timeout=30_000)
    return window


def close_window(window) -> None:
    """Close without the unsaved-changes prompt."""
    for document in getattr(window, "key_frames", None).frames.values() if hasattr(window, "key_frames") else ():
        if document is not None:
            document.mark_saved()
    window.document.mark_saved()
    window.close()
    window.deleteLater()
