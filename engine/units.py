"""Sizes in words, one way everywhere: powers of 1024 called KB, MB and GB."""

from __future__ import annotations

BYTE_UNITS = (("KB", 2**10), ("MB", 2**20), ("GB", 2**30))


def format_bytes(count: float) -> str:
    """``count`` bytes in words: "999 B", "1.5 KB", "350 MB", "1.5 GB". The largest unit of
    which there is at least one, or whose rounding the one below would show as 1024 (1 MB less
    a byte is "1 MB", not "1024 KB"); one decimal below 10 (none when it is 0), whole numbers
    from 10."""
    unit, scale = "B", 1
    for larger, larger_scale in BYTE_UNITS:
        if count >= larger_scale or float(_rounded(count / scale)) >= 1024:
            unit, scale = larger, larger_scale
    return f"{int(count)} B" if scale == 1 else f"{_rounded(count / scale)} {unit}"


def _rounded(value: float) -> str:
    return (f"{value:.1f}" if value < 9.95 else f"{value:.0f}").removesuffix(".0")
