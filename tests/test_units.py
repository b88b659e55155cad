"""Sizes in words: one convention for the studio's and the command line's text."""

import pytest

from engine.units import counted, format_bytes


@pytest.mark.parametrize("count, words", [
    (0, "0 B"),
    (999, "999 B"),
    (1000, "1 kB"),
    (1500, "1.5 kB"),
    (6_881_716, "6.9 MB"),  # the bundled model's file, as the docs and a file manager say it
    (10**6 - 1, "1 MB"),  # not "1000 kB"
    (99_940, "99.9 kB"), (999_400, "999 kB"),
    (123_456_789, "123 MB"),
    (1_500_000_000, "1.5 GB"),
    (3 * 10**12, "3 TB"),
])
def test_file_sizes_are_said_in_powers_of_1000(count, words):
    assert format_bytes(count) == words


@pytest.mark.parametrize("count, words", [
    (1023, "1023 B"),
    (2**10, "1 KiB"),
    (2**20 - 1, "1 MiB"),  # not "1024 KiB"
    (int(12.3 * 2**30), "12.3 GiB"),
    (24 * 2**30, "24 GiB"),  # a 24 GiB card, not "25.8 GB"
    (int(79.6 * 2**30), "79.6 GiB"),
    (300 * 2**20, "300 MiB"),
])
def test_memory_is_said_in_powers_of_1024_with_binary_names(count, words):
    assert format_bytes(count, binary=True) == words


@pytest.mark.parametrize("count, noun, words", [
    (0, "pair", "0 pairs"), (1, "pair", "1 pair"), (2, "patient", "2 patients"), (1, "loop", "1 loop"),
])
def test_counts_are_plural_unless_one(count, noun, words):
    assert counted(count, noun) == words


def test_a_cpu_on_one_thread_is_named_in_the_singular():
    import torch

    from engine.devices import device_name

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert device_name(torch.device("cpu")) == "CPU (1 thread)"
        torch.set_num_threads(2)
        assert device_name(torch.device("cpu")) == "CPU (2 threads)"
    finally:
        torch.set_num_threads(before)
