"""The coordinate search the fitting scripts share (scripts/range_search.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from range_search import search_ranges  # noqa: E402


def test_search_moves_each_end_to_the_best_range_within_bounds():
    target = {"a": (2.0, 5.0), "b": (-1.0, 0.5)}

    def loss(table):
        return sum(abs(table[n][i] - target[n][i]) for n in target for i in (0, 1))

    steps = {(n, side): 1.0 for n in target for side in (0, 1)}
    found = search_ranges({"a": (0.0, 1.0), "b": (0.0, 1.0), "fixed": (7.0, 8.0)}, ["a", "b"], loss, steps,
                          {"a": (-10, 10), "b": (-0.5, 10)}, passes=60, log=lambda _: None,
                          min_width=1e-3, min_step=1e-4)
    assert found["a"] == (2.0, 5.0)
    assert found["b"][0] == -0.5 and abs(found["b"][1] - 0.5) < 1e-3  # the lower end stops at its bound
    assert found["fixed"] == (7.0, 8.0)  # only the named ranges move
