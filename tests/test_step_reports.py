"""Step loops tell their progress at least every few seconds, however slow a step is."""

import numpy as np

import engine.progress
from engine.progress import REPORT_INTERVAL_S, StepReports


def test_reports_come_by_count_at_the_end_and_after_the_interval():
    now = [0.0]
    reports = StepReports(total=50, every=20, clock=lambda: now[0])
    told = []
    for step in range(1, 51):
        now[0] += 0.01 if step < 30 else 1.25 * REPORT_INTERVAL_S  # fast steps, then slow ones
        if reports.due(step):
            told.append(step)
    assert told[:1] == [20] and told[-1] == 50
    assert told[1:] == list(range(30, 51))  # each slow step is told


def test_a_slow_segmenter_tells_every_step(monkeypatch):
    """The evaluation's U-Net reported every 20 steps: on shared cores that was a minute
    without a word."""
    from engine.evaluation.segmenter import train_segmenter

    now = [0.0]

    def slow_clock():
        now[0] += 1.25 * REPORT_INTERVAL_S
        return now[0]

    monkeypatch.setattr(engine.progress, "current_time", slow_clock)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (4, 32, 32)).astype(np.uint8)
    labels = rng.integers(0, 4, (4, 32, 32)).astype(np.uint8)
    events = []
    train_segmenter(images, labels, iters=5, width=4, batch_size=2, progress=events.append)
    assert [e.done for e in events] == [1, 2, 3, 4, 5]


def test_quick_helps_say_how_long_a_quick_run_takes_on_a_small_cpu(capsys):
    import pytest

    from engine.cli.main import main

    for command, duration, threads in (("evaluate", "seconds on a 2-core CPU", "one CPU thread"),
                                       ("bench", "minutes on a 2-core CPU", "--threads 1")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert duration in text and threads in text
