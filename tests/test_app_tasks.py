"""Background tasks end before the interpreter does (cardigan_app.tasks)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from cardigan_app.tasks import BackgroundTask, stop_running_tasks


def test_running_tasks_are_asked_to_stop_and_waited_for():
    started = threading.Event()

    def work(_progress, should_stop):
        started.set()
        while not should_stop():
            threading.Event().wait(0.01)
        return "stopped"

    task = BackgroundTask(work, "endless")
    task.start()
    assert started.wait(5)
    assert stop_running_tasks(timeout=5) == 0
    assert not task._thread.is_alive() and task.cancel_requested


def test_torch_work_on_a_task_at_the_interpreter_s_exit_does_not_abort_the_process():
    """Quitting while the training wizard measured a network's memory aborted Python
    ("terminate called without an active exception"): torch ran on a daemon thread while the
    interpreter shut down."""
    script = textwrap.dedent("""
        import threading
        import torch
        from cardigan_app.tasks import BackgroundTask

        begun = threading.Event()

        def work(_progress, _should_stop):  # measures, and never looks at the stop flag
            begun.set()
            x = torch.randn(128, 128)
            for _ in range(200):
                x = torch.tanh(x @ x / 128)
            return float(x.sum())

        task = BackgroundTask(work, "measure")
        task.start()
        begun.wait(10)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert "terminate called" not in done.stderr
