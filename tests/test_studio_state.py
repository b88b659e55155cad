"""The studio's Qt-free state: one place for every choice, observed by widgets."""

from __future__ import annotations

import pytest

from cardigan_app.state import FIELDS, StudioState


def test_observers_run_once_per_real_change():
    state = StudioState()
    seen = []
    stop = state.observe("brush_diameter", seen.append)
    assert state.set("brush_diameter", 20) and not state.set("brush_diameter", 20)
    assert state.set_brush_diameter(500) == 128  # clamped to the brush's range
    stop()
    state.set("brush_diameter", 3)
    assert seen == [20, 128]
    everything = []
    state.observe_any(lambda name, value: everything.append(name))
    state.set("seed", 7)
    state.set_class_visible(2, False)
    assert everything == ["seed", "visible"] and state.visible == (True, True, False, True)


def test_the_paint_over_rule_has_one_encoding():
    state = StudioState()
    assert state.paint_over is None and not state.paint_over_background
    state.set("paint_over", 0)
    assert state.paint_over_background
    state.set("paint_over", -1)  # how older settings wrote "every class"
    assert state.paint_over is None
    with pytest.raises(ValueError):
        state.set("paint_over", 9)
    assert state.preferences()["paint_over"] == -1


def test_preferences_round_trip_and_damaged_entries_keep_their_default():
    state = StudioState(seed=42, side_by_side=False, echo_mode="blend", paint_over=2)
    stored = state.preferences()
    assert "tool" not in stored and "key_frame" not in stored  # the session's, not remembered
    again = StudioState()
    assert again.restore(stored) == []
    assert again.preferences() == stored
    damaged = StudioState().restore({"seed": "x", "echo_mode": "sideways", "blend": "0.25",
                                     "side_by_side": "false", "unknown": 1})
    assert sorted(damaged) == ["echo_mode", "seed"]


def test_unknown_fields_and_impossible_values_are_refused():
    state = StudioState()
    with pytest.raises(KeyError):
        state.set("colour", "red")
    with pytest.raises(ValueError):
        state.set("tool", "chainsaw")
    assert set(FIELDS) >= {"tool", "active_label", "brush_diameter", "paint_over", "model", "device", "seed"}


def test_the_document_is_held_and_its_replacement_announced():
    state = StudioState()
    seen = []
    state.observe_document(seen.append)
    first, second = object(), object()
    state.set_document(first)
    state.set_document(first)
    state.set_document(second)
    assert seen == [first, second] and state.document is second
