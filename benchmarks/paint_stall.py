"""Longest GUI-thread stall while painting with live synthesis running.

Drives brush strokes through the real canvas with synthetic mouse events (one every 16 ms,
about a 60 Hz mouse) while the seed-configuration generator (ngf 48, 256 x 256, random
weights, saved to a temporary .safetensors file) synthesizes on the CPU in the background.
A 5 ms heartbeat timer on the GUI thread records the gaps between its ticks: the longest
gap minus the 5 ms period is the longest time the GUI thread could not react.

    python benchmarks/paint_stall.py [--seconds 20] [--ngf 48] [--backend process|thread]
                                     [--device cpu] [--trace]

It also reports how long each image took while painting: the studio recomputes only what an
edit reaches (engine.fast.incremental); CARDIGAN_INCREMENTAL=0 in the environment turns that
off, for a comparison.

Run it on an otherwise idle machine: other processes competing for the cores show up as
stalls too.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    from engine.cli.options import float_in_range, int_in_range

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float_in_range(1, 3600, " s"), default=20.0,
                        help="how long to paint (default 20)")
    parser.add_argument("--ngf", type=int_in_range(1, 512), default=48, help="generator width (48: the seed's)")
    parser.add_argument("--size", type=int_in_range(32, 1024, multiple_of=8), default=256,
                        help="image and mask size (default 256)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or mps")
    parser.add_argument("--trace", action="store_true",
                        help="list the longest gaps with what happened during them")
    parser.add_argument("--model", default="", help="use this model instead of a random seed-config one")
    parser.add_argument("--backend", default="process", choices=["process", "thread"],
                        help="run the model in a child process (the app's default) or in a thread")
    args = parser.parse_args(argv)

    import numpy as np
    from PySide6.QtCore import QEvent, QEventLoop, QPointF, Qt, QTimer

    from cardigan_app.app import create_application
    from cardigan_app.editing import LabelDocument
    from cardigan_app.main_window import MainWindow
    from cardigan_app.settings import AppSettings
    from cardigan_app.testing import make_model_file, send_mouse
    from engine.anatomy import template_mask

    create_application([])
    work = Path(tempfile.mkdtemp(prefix="paint-stall-"))
    if args.model:
        model = args.model
    else:
        print(f"making a random ngf={args.ngf} {args.size}x{args.size} generator ...", flush=True)
        model = str(make_model_file(work / "seedlike.safetensors", ngf=args.ngf, image_size=args.size,
                                    norm="syncbatch"))
    window = MainWindow(settings=AppSettings(work / "settings.ini"), autosave_dir=work / "autosave",
                        model=model, device=args.device, backend=args.backend)
    window.resize(1440, 860)
    window.show()

    def wait_for(condition, timeout_s: float) -> bool:
        deadline = time.perf_counter() + timeout_s
        loop = QEventLoop()
        while not condition() and time.perf_counter() < deadline:
            QTimer.singleShot(20, loop.quit)
            loop.exec()
        return condition()

    if not wait_for(lambda: window.live.model is not None and not window.live.loading, 300):
        print("the model did not load", file=sys.stderr)
        return 1
    window.set_document(LabelDocument(template_mask("4CH", "ED", 3, args.size), origin="benchmark"))
    if not wait_for(window.live.up_to_date, 300):
        print("no first image", file=sys.stderr)
        return 1
    first = window.live.last_result.elapsed_s
    canvas = window.canvas
    window.state.set_brush_diameter(10)

    gaps: list[tuple[float, float]] = []  # (gap, end time)
    synthesis_times: list[float] = []
    window.live.imageShown.connect(lambda r: synthesis_times.append(r.elapsed_s))
    handler_times: list[float] = []
    last_tick = [time.perf_counter()]
    happenings: list[tuple[float, str]] = []

    def heartbeat() -> None:
        now = time.perf_counter()
        gaps.append((now - last_tick[0], now))
        last_tick[0] = now

    if args.trace:
        import gc

        window.live.imageShown.connect(lambda r: happenings.append((time.perf_counter(), "image shown")))
        window.live.variationShown.connect(lambda r: happenings.append((time.perf_counter(), "variation shown")))
        gc.callbacks.append(lambda phase, info: happenings.append(
            (time.perf_counter(), f"gc {phase} gen {info.get('generation')}")))

    state = {"step": 0, "down": False}
    centre = args.size / 2

    def paint_step() -> None:
        """One mouse event: strokes of 60 moves along circles of changing radius."""
        start = time.perf_counter()
        step = state["step"]
        state["step"] += 1
        phase = step % 64
        angle = step * 0.09
        radius = args.size * (0.12 + 0.2 * (0.5 + 0.5 * math.sin(step / 97)))
        point = canvas.to_widget(QPointF(centre + radius * math.cos(angle), centre + radius * math.sin(angle)))
        if phase == 0:
            window.set_active_label(1 + (step // 64) % 3)
            send_mouse(canvas, QEvent.Type.MouseButtonPress, point)
            state["down"] = True
        elif phase == 63:
            send_mouse(canvas, QEvent.Type.MouseButtonRelease, point, Qt.MouseButton.LeftButton,
                       Qt.MouseButton.NoButton)
            state["down"] = False
        else:
            send_mouse(canvas, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
        handler_times.append(time.perf_counter() - start)

    computed_before = window.live.synthesis_count
    beat = QTimer(interval=5)
    beat.setTimerType(Qt.TimerType.PreciseTimer)
    beat.timeout.connect(heartbeat)
    painter = QTimer(interval=16)
    painter.setTimerType(Qt.TimerType.PreciseTimer)
    painter.timeout.connect(paint_step)
    last_tick[0] = time.perf_counter()
    beat.start()
    painter.start()
    wait_for(lambda: False, args.seconds)
    painter.stop()
    beat.stop()
    if state["down"]:
        send_mouse(canvas, QEvent.Type.MouseButtonRelease, canvas.to_widget(QPointF(centre, centre)),
                   Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)
    computed = window.live.synthesis_count - computed_before
    wait_for(window.live.up_to_date, 120)
    final_ok = bool(np.array_equal(window.live.last_result.labels, window.document.labels))

    stalls = sorted(g - 0.005 for g, _ in gaps[1:])
    p99 = stalls[int(0.99 * (len(stalls) - 1))]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"model            {Path(model).name if args.model else f'random SPADE ngf={args.ngf}'}, "
          f"{args.size}x{args.size}, device {window.live.device_label}, {args.backend} backend")
    print(f"synthesis        {first * 1000:.0f} ms for the first image; {computed} images while painting "
          f"{args.seconds:.0f} s ({state['step']} mouse events, {window.document.revision} edits)")
    if synthesis_times:
        ordered = sorted(synthesis_times)
        print(f"per image        median {1000 * statistics.median(ordered):.0f} ms, 90th percentile "
              f"{1000 * ordered[int(0.9 * (len(ordered) - 1))]:.0f} ms while painting (incremental "
              f"{'off' if os.environ.get('CARDIGAN_INCREMENTAL') == '0' else 'on'})")
    print(f"GUI stall        longest {stalls[-1] * 1000:.1f} ms, 99th percentile {p99 * 1000:.1f} ms, "
          f"median {statistics.median(stalls) * 1000:.2f} ms (heartbeat 5 ms)")
    print(f"event handling   longest {max(handler_times) * 1000:.1f} ms, "
          f"mean {statistics.mean(handler_times) * 1000:.2f} ms per mouse event")
    print(f"final image      {'matches' if final_ok else 'DOES NOT match'} the final mask; "
          f"1-min load average {load:.2f} on {os.cpu_count()} cores")
    if args.trace:
        for gap, end in sorted(gaps[1:], reverse=True)[:8]:
            during = [what for t, what in happenings if end - gap - 0.002 <= t <= end]
            print(f"  gap {gap * 1000:6.1f} ms: {', '.join(during) or 'nothing recorded'}")
    window.document.mark_saved()
    window.close()
    return 0 if final_ok else 1


if __name__ == "__main__":
    sys.exit(main())
