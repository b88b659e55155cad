"""From an edit of the mask to its image on screen, and where the time goes, in one run.

    python benchmarks/edit_latency.py [--model demo] [--rounds 20] [--backend process|thread]

Every figure is a median of ``--rounds`` edits, each a 15-pixel dab of another class painted
at another place of one shape-model heart (256 x 256, its median fan), so each asks the model
for an edited map as painting does:

(a) the engine: ``Synthesizer`` in this process (incremental, as the studio runs it): a full
    pass (a new seed each time) and a dab;
(b) the studio's live synthesis (:class:`cardigan_app.synthesis.live.LiveSynthesis`), from
    ``request`` to the image arriving in the GUI thread, with the variations strip off, on
    with the machine idle before each edit (the six variations finished), and on while
    painting (the next edit sent as soon as the image arrives, the variations of the edit
    before still being made); ``made`` is the synthesis side's own time for the image (its
    wait for the model included), the rest is the pipe, the dispatcher and the event loop;
(c) the window (:class:`cardigan_app.main_window.MainWindow`, offscreen, 1280 x 800): from a
    brush stroke's last mouse event (the release) to the echo view's next paint with the
    image of that stroke.

It also prints the threads torch uses here and in the synthesis process. Timings on a shared
machine vary: compare the figures of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def ms(values) -> str:
    return f"{1000 * statistics.median(values):6.1f} ms"


def dabs(mask, rounds: int):
    """``rounds`` edited copies of ``mask``, each one 15-pixel disc more than the last."""
    import numpy as np

    height, width = mask.shape
    yy, xx = np.mgrid[:height, :width]
    edited, out = mask.copy(), []
    for i in range(rounds):
        angle = 2.4 * i
        cy, cx = height / 2 + 0.25 * height * np.sin(angle), width / 2 + 0.25 * width * np.cos(angle)
        edited = edited.copy()
        edited[(yy - cy) ** 2 + (xx - cx) ** 2 <= 7.5 ** 2] = 1 + i % 3
        out.append(edited)
    return out


def engine_times(model: str, mask, fan, rounds: int) -> dict:
    from engine.synthesizer import Synthesizer

    synth = Synthesizer(model, device="cpu", incremental=True)
    for seed in range(3):
        synth.synthesize(mask, seed=seed, fan=fan)
    full, dab = [], []
    for i, edited in enumerate(dabs(mask, rounds)):
        start = time.perf_counter()
        synth.synthesize(mask, seed=100 + i, fan=fan)
        full.append(time.perf_counter() - start)
        synth.synthesize(mask, seed=0, fan=fan)  # the cache back on seed 0
        start = time.perf_counter()
        synth.synthesize(edited, seed=0, fan=fan)
        dab.append(time.perf_counter() - start)
        synth.synthesize(mask, seed=0, fan=fan)
    return {"full": full, "dab": dab}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="the model (default: the bundled demo model)")
    parser.add_argument("--rounds", type=int, default=20, help="edits per figure (default 20)")
    parser.add_argument("--backend", default="process", choices=["process", "thread"])
    args = parser.parse_args(argv)

    import torch
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QPointF, Qt, QTimer

    from cardigan_app.app import create_application
    from cardigan_app.synthesis.live import LiveSynthesis
    from engine.anatomy import template_mask
    from engine.fan import default_fan

    mask = template_mask("4CH", "ED", seed=0, size=256)
    fan = default_fan("4CH")
    engine = engine_times(args.model, mask, fan, args.rounds)

    create_application([])

    def wait_for(condition, timeout_s: float = 120) -> bool:
        deadline = time.perf_counter() + timeout_s
        loop = QEventLoop()
        while not condition() and time.perf_counter() < deadline:
            QTimer.singleShot(1, loop.quit)
            loop.exec()
        return condition()

    live = LiveSynthesis(args.backend)
    live.load(args.model, "cpu")
    if not wait_for(lambda: live.model is not None, 300):
        print("the model did not load", file=sys.stderr)
        return 1
    arrived: list = []  # (time, result)
    variations: list = []
    live.imageShown.connect(lambda r: arrived.append((time.perf_counter(), r)))
    live.variationShown.connect(lambda v: variations.append(v))

    def studio_round(edits, variations_on: bool, idle_before: bool) -> tuple[list[float], list[float]]:
        live.set_variations(variations_on)
        wait_for(live.up_to_date)
        wait_for(lambda: not variations_on or len(variations) >= 6, 30)
        trips, made = [], []
        for revision, edited in enumerate(edits):
            if idle_before and variations_on:
                wait_for(lambda: len(variations) >= 6, 30)
            arrived.clear()
            variations.clear()
            start = time.perf_counter()
            live.request(edited, 1, revision, fan)
            wait_for(lambda: arrived and arrived[-1][1].serial == live._serial)
            end, result = arrived[-1]
            trips.append(end - start)
            made.append(result.elapsed_s)
        return trips, made

    base = dabs(mask, 3 * args.rounds + 3)
    live.request(mask, 1, 0, fan)
    wait_for(live.up_to_date)
    studio = {
        "variations off": studio_round(base[:args.rounds], False, True),
        "variations on, idle before": studio_round(base[args.rounds + 1:2 * args.rounds + 1], True, True),
        "variations on, painting": studio_round(base[2 * args.rounds + 2:3 * args.rounds + 2], True, False),
    }
    child_threads = live.device_label
    live.shutdown()
    print(f"model {args.model}, 256x256, {args.backend} backend, {os.cpu_count()} cores, "
          f"1-min load {os.getloadavg()[0]:.2f}; torch threads: this process {torch.get_num_threads()}, "
          f"synthesis: {child_threads}")
    print(f"(a) engine, in process     full pass {ms(engine['full'])}   dab {ms(engine['dab'])}")
    for name, (trips, made) in studio.items():
        overhead = [t - m for t, m in zip(trips, made)]
        print(f"(b) studio, {name:27s} request to image {ms(trips)}   made in {ms(made)}   "
              f"rest {ms(overhead)}")

    # (c) the window: a stroke's release to the echo view's paint of its image
    from cardigan_app.editing import LabelDocument
    from cardigan_app.main_window import MainWindow
    from cardigan_app.settings import AppSettings
    from cardigan_app.testing import send_mouse

    work = Path(tempfile.mkdtemp(prefix="edit-latency-"))
    window = MainWindow(settings=AppSettings(work / "settings.ini"), autosave_dir=work / "autosave",
                        model=args.model, device="cpu", backend=args.backend)
    window.resize(1280, 800)
    window.show()
    if not wait_for(lambda: window.live.model is not None and not window.live.loading, 300):
        print("the window's model did not load", file=sys.stderr)
        return 1
    window.set_document(LabelDocument(mask.copy(), origin="benchmark"))
    wait_for(window.live.up_to_date)
    window.state.set_brush_diameter(15)
    painted: list[float] = []

    class PaintSpy(QObject):
        def eventFilter(self, watched, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and window.live.up_to_date():
                painted.append(time.perf_counter())
            return False

    spy = PaintSpy()
    window.echo_view.installEventFilter(spy)
    canvas, strokes = window.canvas, []
    for i in range(3 * args.rounds):
        if len(strokes) == args.rounds:
            break
        wait_for(window.live.up_to_date)
        wait_for(lambda: False, 0.15)  # the variations of the stroke before go on meanwhile
        window.set_active_label(1 + i % 3)
        angle = 2.4 * i
        points = [canvas.to_widget(QPointF(128 + 60 * torch.tensor(angle + k * 0.05).cos().item(),
                                           128 + 60 * torch.tensor(angle + k * 0.05).sin().item()))
                  for k in range(6)]
        send_mouse(canvas, QEvent.Type.MouseButtonPress, points[0])
        for point in points[1:]:
            send_mouse(canvas, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
        painted.clear()
        send_mouse(canvas, QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.LeftButton,
                   Qt.MouseButton.NoButton)
        start = time.perf_counter()
        if window.live.up_to_date():  # the stroke changed no label
            continue
        if not wait_for(lambda: bool(painted), 60):
            print("no paint of the stroke's image", file=sys.stderr)
            return 1
        strokes.append(painted[0] - start)
    window.document.mark_saved()
    window.close()

    print(f"(c) window, stroke release to the image painted {ms(strokes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
