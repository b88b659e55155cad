"""Sizes in words: one convention for the studio's and the command line's text."""

import pytest

from engine.units import format_bytes


@pytest.mark.parametrize("count, words", [
    (0, "0 B"),
    (999, "999 B"),
    (2**10 - 1, "1023 B"),
    (2**10, "1 KB"),
    (1536, "1.5 KB"),
    (2**20 - 1, "1 MB"),  # not "1024 KB"
    (100 * 2**20, "100 MB"),
    (300 * 2**20, "300 MB"),
    (int(1.5 * 2**30), "1.5 GB"),
    (3 * 2**40, "3072 GB"),
])
def test_sizes_are_said_in_powers_of_1024_with_a_decimal_below_ten(count, words):
    assert format_bytes(count) == words
