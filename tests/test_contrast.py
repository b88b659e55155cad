"""Window and level of the real image (cardigan_app.contrast): the mapping alone, no Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from cardigan_app.contrast import (Window, apply_window, auto_window, dragged, narrowest, own_window,
                                   scan_support)

RAMP = np.arange(256, dtype=np.uint8).reshape(16, 16)


def test_the_module_needs_no_qt():
    source = Path(__file__).resolve().parents[1] / "cardigan_app" / "contrast.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported and not any(name.startswith(("PySide6", "PyQt", "qtawesome")) for name in imported)


def test_an_8_bit_image_at_its_own_window_is_shown_as_it_is():
    own = own_window(RAMP)
    assert own == Window(256, 128) and (own.low, own.high) == (0, 256)
    shown = apply_window(RAMP, own)
    assert shown.dtype == np.uint8 and shown.shape == RAMP.shape
    assert (shown == RAMP).all()


def test_a_narrow_window_stretches_its_span_and_clips_the_rest():
    shown = apply_window(RAMP, Window(64, 96)).ravel()  # values 64..127 fill black to white
    assert (shown[:64] == 0).all() and (shown[128:] == 255).all()
    assert (shown[64:128] == np.arange(64) * 4).all()  # four screen greys per grey value


def test_window_1_is_a_threshold_at_the_level():
    shown = apply_window(RAMP, Window(1, 100)).ravel()
    assert (shown[:100] == 0).all() and shown[100] == 128 and (shown[101:] == 255).all()


@pytest.mark.parametrize("level, expected", [(400, 0), (-150, 255), (256 + 64, 0), (-64, 255)])
def test_a_level_outside_the_values_shows_all_black_or_all_white(level, expected):
    assert (apply_window(RAMP, Window(100, level)) == expected).all()


def test_a_wide_window_lowers_the_contrast_without_wrapping():
    shown = apply_window(RAMP, Window(512, 128)).ravel()  # -128..384: grey 64..191
    assert shown.min() == 64 and shown.max() == 191 and (np.diff(shown.astype(int)) >= 0).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_images_in_0_1(dtype):
    image = np.linspace(0.0, 1.0, 101, dtype=dtype).reshape(1, -1)
    own = own_window(image)
    assert own == Window(1.0, 0.5)
    shown = apply_window(image, own)
    assert shown.dtype == np.uint8 and shown[0, 0] == 0 and shown[0, -1] == 255 and shown[0, 50] == 128
    assert (np.diff(shown.astype(int)) >= 0).all()
    half = apply_window(image, Window(0.5, 0.25)).ravel()  # the dark half fills the screen
    assert half[0] == 0 and half[50] == 255 and half[25] == 128


def test_other_integer_images_and_nan_are_mapped_too():
    assert (apply_window(np.array([[0, 1000, 4000]], np.uint16), Window(2000, 1000)) == [[0, 128, 255]]).all()
    assert apply_window(np.array([[np.nan, 0.5]]), Window(1, 0.5)).tolist() == [[0, 128]]


@pytest.mark.parametrize("window", [Window(0, 128), Window(-5, 128), Window(float("nan"), 128),
                                    Window(float("inf"), 128), Window(10, float("nan"))])
def test_a_window_that_means_nothing_is_refused_in_one_line(window):
    with pytest.raises(ValueError, match="window (width|level)"):
        apply_window(RAMP, window)


def test_auto_stretches_the_1_and_99_percentiles_and_ignores_a_few_outliers():
    rng = np.random.default_rng(0)
    dim = rng.integers(20, 61, size=(100, 100)).astype(np.uint8)  # a dim echo: values 20..60
    dim[:2, :20] = 255  # a few saturated pixels (0.4 %)
    dim[2, :20] = 0
    window = auto_window(dim)
    assert window.low == 20 and window.high == 61 and window.width == 41
    shown = apply_window(dim, window)
    assert shown[dim == 20].max() == 0 and shown[dim == 60].min() >= 249  # the tissue fills the screen
    assert (shown[:2, :20] == 255).all()


def test_auto_on_a_flat_image_is_the_narrowest_window_at_its_value():
    flat = np.full((8, 8), 77, np.uint8)
    assert auto_window(flat) == Window(1, 77.5)
    assert (apply_window(flat, auto_window(flat)) == 0).all()  # 77 lies at the window's low end
    floats = np.full((8, 8), 0.25, np.float32)
    assert auto_window(floats).width == narrowest(own_window(floats)) == 1 / 256


def test_a_drag_moves_width_sideways_and_level_up_and_down_within_bounds():
    own = own_window(RAMP)
    start = Window(100, 100)
    assert dragged(start, 30, 0, own) == Window(130, 100)  # right: wider, less contrast
    assert dragged(start, 0, -20, own) == Window(100, 80)  # up: a lower level, a brighter image
    assert dragged(start, -500, 0, own).width == 1  # never narrower than one grey value
    assert dragged(start, 10_000, 0, own).width == 4 * 256
    assert dragged(start, 0, 10_000, own).level == 256 and dragged(start, 0, -10_000, own).level == 0
    floats = own_window(np.zeros((2, 2), np.float32))
    assert dragged(Window(1, 0.5), 64, 0, floats) == Window(1.25, 0.5)  # the same feel on [0, 1]


def test_describe_writes_width_and_level():
    assert Window(256, 128).describe() == "W 256 \u00b7 L 128"
    assert Window(41, 40.5).describe() == "W 41 \u00b7 L 40.5"


def fan_image(size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """A made-up echo: a fan of tissue (grey 60..180) around a dark pool (10..25), black outside."""
    from engine.fan import default_fan, fan_mask

    rng = np.random.default_rng(3)
    fan = fan_mask(default_fan("4CH"), size, size)
    image = np.where(fan, rng.integers(60, 181, (size, size)), 0).astype(np.uint8)
    ys, xs = np.mgrid[:size, :size]
    pool = (ys - size * 0.45) ** 2 + (xs - size * 0.5) ** 2 < (size * 0.12) ** 2
    image[pool & fan] = rng.integers(10, 26, int((pool & fan).sum()))
    return image, fan


def test_auto_on_an_echo_stretches_the_fan_not_the_black_around_it():
    """The black outside the fan (a third of the picture) pinned the low end at 0: the fan's
    darkest grey (the pool) now becomes black, and the fan fills the screen's greys."""
    image, fan = fan_image()
    assert 0.25 < 1 - fan.mean() < 0.75 and np.percentile(image, 1) == 0  # the whole image's low end is 0
    support = scan_support(image)
    assert support is not None and (support == fan).mean() > 0.97  # the fan, its dark pool included
    window = auto_window(image)
    inside = image[fan]
    assert window.low == np.floor(np.percentile(inside, 1)) and 10 <= window.low <= 25
    assert window.high == np.ceil(np.percentile(inside, 99)) + 1
    shown = apply_window(image, window)
    assert (shown[~fan] == 0).all() and shown[image == window.low].max() == 0  # the pool's darkest is black
    whole = apply_window(image, Window(*whole_image_stretch(image)))
    assert whole[image == window.low].min() > 0 and shown[fan].std() > whole[fan].std() + 2


def whole_image_stretch(image: np.ndarray) -> tuple[float, float]:
    """(width, level) of the 1-99 % stretch over every pixel, as Auto was."""
    lo, hi = np.floor(np.percentile(image, 1)), np.ceil(np.percentile(image, 99)) + 1
    return hi - lo, (lo + hi) / 2


def test_auto_takes_a_given_fan_record_and_falls_back_to_the_whole_image_without_a_clear_fan():
    image, fan = fan_image()
    moved = np.roll(fan, 10, axis=1)  # a fan record: its pixels are the ones used
    assert auto_window(image, support=moved).low == np.floor(np.percentile(image[moved], 1))
    assert auto_window(image, support=np.zeros((3, 3), bool)) == auto_window(image)  # a record of another size:
    assert auto_window(image).low > 0  # the fan the image shows is used instead
    lit = np.random.default_rng(1).integers(30, 200, (64, 64)).astype(np.uint8)  # no black around it
    assert scan_support(lit) is None and auto_window(lit) == Window(*whole_image_stretch(lit))
    specks = np.zeros((64, 64), np.uint8)  # a dark picture with a small bright patch: no fan to stretch
    specks[:10, :10] = 200
    assert scan_support(specks) is None and auto_window(specks).low == 0
