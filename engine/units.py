"""Sizes in words, one function everywhere. Files and data are said in powers of 1000 (kB,
MB, GB), as file managers and the docs say them (the bundled model is a 6.9 MB file); memory is
said in powers of 1024 with its binary names (KiB, MiB, GiB), as GPU tools and torch report it,
so a 24 GiB card reads "24 GiB" and not "25.8 GB". Counts of things are said by
:func:`counted` ("1 patient", "4 pairs")."""

from __future__ import annotations

DECIMAL_UNITS = (("kB", 1000), ("MB", 1000**2), ("GB", 1000**3), ("TB", 1000**4))
BINARY_UNITS = (("KiB", 2**10), ("MiB", 2**20), ("GiB", 2**30), ("TiB", 2**40))


def format_bytes(count: float, binary: bool = False) -> str:
    """``count`` bytes in words: "999 B", "1.5 kB", "6.9 MB", "350 MB", "1.5 GB"; with
    ``binary``, "12.3 GiB". The largest unit of which there is at least one, or whose rounding
    the one below would show as a whole unit more (1 MB less a byte is "1 MB", not "1000 kB");
    one decimal below 100 (none when it is 0), whole numbers from 100."""
    units = BINARY_UNITS if binary else DECIMAL_UNITS
    unit, scale = "B", 1
    for larger, larger_scale in units:
        if count >= larger_scale or float(_rounded(count / scale)) * scale >= larger_scale:
            unit, scale = larger, larger_scale
    return f"{int(count)} B" if scale == 1 else f"{_rounded(count / scale)} {unit}"


def _rounded(value: float) -> str:
    return (f"{value:.1f}" if value < 99.95 else f"{value:.0f}").removesuffix(".0")


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless one: "1 patient", "4 pairs"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
