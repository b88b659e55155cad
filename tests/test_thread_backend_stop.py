"""Stopping the thread backend (closing the studio) while a model still loads never aborts.

The backend waited 15 s for each thread and was then destroyed with a load still running:
Qt aborted the process ("QThread: Destroyed while thread is still running").
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

STOPPED_MID_LOAD = textwrap.dedent("""
    import sys
    import threading
    import types

    import shiboken6
    from PySide6.QtCore import QCoreApplication, QObject

    started, release = threading.Event(), threading.Event()


    class SlowHost:  # a large model on a slow disk (and no torch to import: a fast test)
        @staticmethod
        def open(model_id, spec, device):
            started.set()
            release.wait(30)
            raise RuntimeError("loaded after the window closed: never reported")


    sys.modules["cardigan_app.synthesis.host"] = types.SimpleNamespace(ModelHost=SlowHost)
    from cardigan_app.synthesis import backends

    app = QCoreApplication([])
    window = QObject()
    backend = backends.ThreadBackend(window)
    backend.modelFailed.connect(lambda failure: print("told", failure))  # nothing to tell once stopped
    backend.load(1, "big.pt", "cpu")
    assert started.wait(30)
    backend.stop(wait_ms=20)
    shiboken6.delete(window)  # the window closes, its backend with it
    ending = threading.Timer(0.3, release.set)  # the load ends while the interpreter exits
    ending.daemon = True  # (the interpreter's exit does not wait for the timer)
    ending.start()
    print("closed", flush=True)
""")


def test_closing_while_a_model_loads_waits_for_the_load_instead_of_aborting():
    done = subprocess.run([sys.executable, "-c", STOPPED_MID_LOAD], capture_output=True, text=True, timeout=120)
    assert "Destroyed while thread" not in done.stderr
    assert done.returncode == 0 and done.stdout == "closed\n", done.stderr[-800:]
    assert done.stderr == "cardigan: waiting for the model still being loaded (or used) to finish before closing\n"

