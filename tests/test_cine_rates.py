"""A loop plays at the heart rate asked for, and a frame rate too slow for it is refused.

A cycle shorter than two frames (5 fps at 250 bpm) was raised to two frames and played at
150 bpm, with 250 bpm recorded; rounding the frames of a cycle moved the heart rate too
(5 fps at 130 bpm: 2 frames, played at 150 bpm).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.cine import Timing
from engine.cine.timing import lowest_fps
from engine.errors import CardiganError


def played_bpm(frames: int, fps: float, cycle: str = "full") -> float:
    """The heart rate a loop of ``frames`` played at ``fps`` beats at."""
    if cycle == "half":  # the frames span the ejection, a third of the beat, both ends included
        from engine.cine.timing import EJECTION

        return 60.0 * EJECTION * fps / (frames - 1)
    return 60.0 * fps / frames


@pytest.mark.parametrize("cycle", ["full", "half"])
@pytest.mark.parametrize("bpm, fps", [(250, 7), (130, 5), (65, 40), (20, 1), (250, 6.25), (37, 0.925)])
def test_a_loop_plays_at_the_heart_rate_asked_for(bpm, fps, cycle):
    timing = Timing(bpm=bpm, fps=fps, cycle=cycle).checked()
    assert played_bpm(timing.frame_count(), timing.playback_fps, cycle) == pytest.approx(bpm)


@pytest.mark.parametrize("cycle", ["full", "half"])
@pytest.mark.parametrize("bpm", [20, 65, 130, 250])
def test_the_lowest_frame_rate_works_and_anything_below_is_refused_naming_it(bpm, cycle):
    assert Timing(bpm=bpm, fps=lowest_fps(bpm), cycle=cycle).checked().frame_count() == 2
    with pytest.raises(CardiganError, match=f"at least {lowest_fps(bpm):g} fps"):
        Timing(bpm=bpm, fps=lowest_fps(bpm) * 0.99, cycle=cycle).checked()


def test_the_cine_command_refuses_a_frame_rate_too_slow_for_the_heart_rate(tmp_path, capsys):
    from engine.cli.main import main
    from test_cine import cine_key_frame_args

    args = [a for a in cine_key_frame_args(tmp_path) if a not in ("--frames", "5")]
    out = tmp_path / "loop.h5"
    assert main(args + ["--fps", "5", "--bpm", "250", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["cardigan: error: 5 fps is too slow for 250 bpm: a loop needs 2 frames a heart cycle, "
                   "so at least 6.25 fps"]
    assert not out.exists()


def test_the_cine_commands_file_records_the_rate_it_plays_at(tmp_path):
    import h5py

    from engine.cli.main import main
    from test_cine import cine_key_frame_args

    args = [a for a in cine_key_frame_args(tmp_path) if a not in ("--frames", "5")]
    out = tmp_path / "loop.h5"
    assert main(args + ["--fps", "5", "--bpm", "130", "--out", str(out)]) == 0
    with h5py.File(out) as f:
        frames = f["images"].shape[0]
        assert frames == 2 and f.attrs["bpm"] == 130.0
        assert played_bpm(frames, f.attrs["fps"]) == pytest.approx(130.0)


def test_a_cine_export_records_the_rate_each_sequence_plays_at(tmp_path, monkeypatch):
    import json

    import engine.export.cine as cine_export

    monkeypatch.setattr(cine_export, "synthesize_loop", lambda synth, loop, **kw: np.zeros(loop.masks.shape, np.uint8))
    cine_export.export_cine("simulator", tmp_path / "out", random=1, views=("4CH",), format="png", size=64,
                            timing=Timing(fps=5, bpm=130, cycle="full"))
    (sequence,) = json.loads((tmp_path / "out" / "manifest.json").read_text())["sequences"]
    assert sequence["bpm"] == 130 and played_bpm(sequence["frames"], sequence["fps"]) == pytest.approx(130.0)
    with pytest.raises(CardiganError, match="at least 6.25 fps"):
        cine_export.export_cine("simulator", tmp_path / "slow", random=1, format="png", size=64,
                                timing=Timing(fps=5, bpm=250))
    assert not (tmp_path / "slow").exists()


def test_the_studios_frame_rate_box_never_goes_below_two_frames_a_beat(qtbot):
    from cardigan_app.cine.timeline import Timeline
    from cardigan_app.state import StudioState

    state = StudioState(cine_bpm=250, cine_fps=5)  # kept from before: too slow for the heart rate
    timeline = Timeline(state)
    qtbot.addWidget(timeline)
    assert timeline.fps.value() == state.cine_fps == 7 == timeline.fps.minimum()
    timeline.bpm.setValue(60)
    assert timeline.fps.minimum() == 2 and state.cine_fps == 7
    timeline.fps.setValue(3)
    timeline.bpm.setValue(200)  # 3 fps is 0.9 frames a beat: raised to 5
    assert timeline.fps.value() == state.cine_fps == 5
    state.set("cine_fps", 2)  # set by other means than the box
    assert timeline.fps.value() == state.cine_fps == 5
    Timing(bpm=state.cine_bpm, fps=state.cine_fps).checked()


def test_the_studios_loop_plays_at_its_heart_rate():
    from cardigan_app.synthesis.host import ModelHost
    from cardigan_app.synthesis.jobs import CineRequest
    from test_cine import key_frames

    ed, es = key_frames(3, 32)
    host = ModelHost.open(1, "simulator", "cpu")
    frames = host.render_cine(CineRequest(1, 1, ed, es, None, 0, 130.0, 5.0))
    assert len(frames.images) == 2 and played_bpm(len(frames.images), frames.fps) == pytest.approx(130.0)
