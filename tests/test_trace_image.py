"""An image of the user's own to trace a mask over: read from pictures and volumes, squashed
to the mask size, its fan fitted (engine.data.trace_image)."""

import numpy as np
import pytest
import SimpleITK as sitk
from PIL import Image

from engine.data.trace_image import image_to_trace, read_grey_image
from engine.errors import DataError
from engine.fan import Fan, default_fan, fan_alpha


def echo_like(fan: Fan, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Grainy tissue inside ``fan``, black outside, at height x width (a squashed sector)."""
    rng = np.random.default_rng(seed)
    tissue = np.clip(rng.gamma(2.0, 45.0, (height, width)), 20, 255)
    return np.round(tissue * fan_alpha(fan, height, width)).astype(np.uint8)


FAN = Fan(0.48, 0.0, -35.0, 30.0, 0.9, 0.85)


def test_a_wide_picture_is_squashed_to_the_mask_size_and_its_sector_found(tmp_path):
    picture = echo_like(FAN, 300, 420)
    Image.fromarray(picture).convert("RGB").save(tmp_path / "echo.png")  # a colour export
    traced = image_to_trace(tmp_path / "echo.png", size=128)
    assert traced.image.shape == (128, 128) and traced.image.dtype == np.uint8
    assert traced.original == (300, 420)
    # the fan is size-free: the same sector, found in the squashed copy
    assert traced.fit > 0.97
    assert abs(traced.fan.left - FAN.left) < 3 and abs(traced.fan.right - FAN.right) < 3
    assert abs(traced.fan.depth - FAN.depth) < 0.03


def test_volumes_give_their_first_frame_scaled_to_8_bits(tmp_path):
    frames = np.stack([echo_like(FAN, 64, 64, seed) for seed in (1, 2)]).astype(np.uint16) * 200
    sitk.WriteImage(sitk.GetImageFromArray(frames), str(tmp_path / "loop.nii.gz"))
    image = read_grey_image(tmp_path / "loop.nii.gz")
    assert image.dtype == np.uint8 and image.shape == (64, 64)
    first = frames[0].astype(float)
    expected = np.round((first - first.min()) * 255 / (first.max() - first.min()))
    assert np.array_equal(image, expected.astype(np.uint8))
    sitk.WriteImage(sitk.GetImageFromArray(frames[1].astype(np.uint8)), str(tmp_path / "frame.mhd"))
    assert np.array_equal(read_grey_image(tmp_path / "frame.mhd"), frames[1].astype(np.uint8))


def test_a_photo_is_read_upright_and_a_big_endian_16_bit_picture_is_not_clipped(tmp_path):
    picture = np.zeros((40, 80), np.uint8)
    picture[:10, :20] = 200  # a bright corner, top left as the camera stored it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to view
    Image.fromarray(picture).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    upright = read_grey_image(tmp_path / "photo.jpg")
    assert upright.shape == (80, 40)  # as a viewer shows it
    assert upright[:20, -10:].mean() > 150 and upright[-20:, :10].mean() < 50  # the corner went top right
    wide = (np.arange(64 * 64).reshape(64, 64) * 16).astype(">u2")  # 0 .. 65520, most bytes over 255
    Image.frombytes("I;16B", (64, 64), wide.tobytes()).save(tmp_path / "big.tif")
    little = wide.astype("<u2")
    Image.frombytes("I;16", (64, 64), little.tobytes()).save(tmp_path / "little.tif")
    assert np.array_equal(read_grey_image(tmp_path / "big.tif"), read_grey_image(tmp_path / "little.tif"))
    assert (read_grey_image(tmp_path / "big.tif") == 255).mean() < 0.01


def test_an_image_without_a_sector_gets_the_views_median_fan(tmp_path):
    Image.fromarray(np.zeros((80, 80), np.uint8)).save(tmp_path / "patient_4CH_blank.png")
    traced = image_to_trace(tmp_path / "patient_4CH_blank.png", size=64, view="4CH")
    assert traced.fit == 0 and traced.fan == default_fan("4CH")


@pytest.mark.parametrize("size", [64, 256])
def test_noise_that_fills_the_frame_holds_no_sector_and_gets_the_views_median_fan(tmp_path, size):
    """Bright noise everywhere is a support filling the frame: a fan wide and deep enough to
    cover the whole picture fitted it at an IoU of 1.00, as if it were a perfect sector."""
    noise = np.random.default_rng(4).integers(0, 256, (200, 260)).astype(np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise_2CH.png")
    traced = image_to_trace(tmp_path / "noise_2CH.png", size=size, view="2CH")
    assert traced.fit == 0 and traced.fan == default_fan("2CH")
    # a sector of the same noise, black around it, is still found
    Image.fromarray(np.round(noise * fan_alpha(FAN, 200, 260)).astype(np.uint8)).save(tmp_path / "sector.png")
    traced = image_to_trace(tmp_path / "sector.png", size=size)
    assert traced.fit > 0.95 and abs(traced.fan.left - FAN.left) < 3 and abs(traced.fan.right - FAN.right) < 3


@pytest.mark.parametrize("case, words", [
    ("missing", "no such file"),
    ("folder", "is a folder; give one image file from it"),
    ("not_an_image", "not an image"),
    ("tiny", "at least 8 x 8"),
    ("damaged_volume", "truncated or damaged"),
    ("four_d", "expected an image"),
])
def test_what_cannot_be_traced_is_one_line(tmp_path, case, words):
    path = tmp_path / "x.png"
    if case == "folder":
        path = tmp_path / "export"
        path.mkdir()
    elif case == "not_an_image":
        path.write_text("not a picture")
    elif case == "tiny":
        Image.fromarray(np.zeros((4, 30), np.uint8)).save(path)
    elif case == "damaged_volume":
        path = tmp_path / "x.nii.gz"
        path.write_bytes(b"\x1f\x8b broken")
    elif case == "four_d":
        path = tmp_path / "x.nii.gz"
        sitk.WriteImage(sitk.GetImageFromArray(np.zeros((2, 3, 16, 16), np.uint8)), str(path))
    with pytest.raises(DataError, match=words) as caught:
        read_grey_image(path)
    assert "\n" not in str(caught.value)


def in_fan(image: np.ndarray) -> np.ndarray:
    return fan_alpha(FAN, *image.shape) > 0.99


def test_a_dim_picture_is_stretched_to_be_traced_over_and_a_bright_enough_one_is_not(tmp_path):
    echo = echo_like(FAN, 96, 128)
    dim = np.round(echo * (60 / 255)).astype(np.uint8)  # grey levels 0..60: nearly black on screen
    Image.fromarray(dim).save(tmp_path / "dim.png")
    shown = read_grey_image(tmp_path / "dim.png")
    assert shown[in_fan(dim)].mean() > 3.5 * dim[in_fan(dim)].mean()  # as bright as the echo it was
    assert abs(shown[in_fan(dim)].mean() - echo[in_fan(dim)].mean()) < 20
    assert (shown[dim == 0] == 0).all() and (shown == 255).mean() < 0.01  # black kept, few clipped
    order = np.argsort(dim, axis=None, kind="stable")
    assert (np.diff(shown.flat[order].astype(int)) >= 0).all()  # no grey level changes place
    soft = np.round(echo * (100 / 255)).astype(np.uint8)  # darker, not dim: kept as it is
    Image.fromarray(soft).save(tmp_path / "soft.png")
    assert np.array_equal(read_grey_image(tmp_path / "soft.png"), soft)


def test_a_16_bit_frame_with_a_few_saturated_pixels_is_not_shown_black(tmp_path):
    echo = echo_like(FAN, 96, 128).astype(np.uint16) * 4  # echoes in 0..1020 of 16 bits
    wide = echo.copy()
    wide[:3, :3] = 65535  # a burnt-in marker at full scale
    sitk.WriteImage(sitk.GetImageFromArray(wide), str(tmp_path / "marker.mhd"))
    shown = read_grey_image(tmp_path / "marker.mhd")
    assert shown[in_fan(echo)].mean() > 60 and shown[:3, :3].min() == 255
    assert abs(shown[in_fan(echo)].mean() - echo[in_fan(echo)].mean() / 4) < 20


def test_a_frame_of_little_but_noise_is_brightened_at_most_16_fold(tmp_path):
    noise = np.random.default_rng(3).integers(0, 3, (64, 64)).astype(np.uint8)  # grey levels 0..2
    Image.fromarray(noise).save(tmp_path / "blank.png")
    assert np.array_equal(read_grey_image(tmp_path / "blank.png"), np.round(noise * 255.0 / 16))


def test_an_animated_gif_the_cine_command_writes_gives_every_frame_as_a_nifti_loop_does(tmp_path):
    from engine.cine.writers import write_loop
    from engine.data.trace_image import read_grey_frames

    images = np.stack([echo_like(FAN, 64, 64, seed) for seed in range(5)])
    for name in ("loop.gif", "loop.nii.gz"):
        write_loop(tmp_path / name, images, np.zeros_like(images), fps=25)
    gif, nifti = read_grey_frames(tmp_path / "loop.gif"), read_grey_frames(tmp_path / "loop.nii.gz")
    assert gif.shape == nifti.shape == (5, 64, 64)
    assert np.abs(gif.astype(int) - nifti).max() <= 2  # a GIF's palette may round a grey level
    assert not np.array_equal(gif[0], gif[1])
    traced = image_to_trace(tmp_path / "loop.gif", size=32)
    assert traced.frames.shape == (5, 32, 32) and np.array_equal(traced.image, traced.frames[0])
    assert read_grey_frames(tmp_path / "loop.gif", first_only=True).shape == (1, 64, 64)


def test_a_multi_page_picture_with_pages_of_unequal_sizes_is_one_line(tmp_path):
    pages = [Image.fromarray(echo_like(FAN, 64, 64)), Image.fromarray(echo_like(FAN, 48, 64))]
    pages[0].save(tmp_path / "pages.tif", save_all=True, append_images=pages[1:])
    from engine.data.trace_image import read_grey_frames

    with pytest.raises(DataError, match=r"pages.tif: its 2 frames are not all one size") as refused:
        read_grey_frames(tmp_path / "pages.tif")
    assert "\n" not in str(refused.value)
    assert read_grey_image(tmp_path / "pages.tif").shape == (64, 64)  # its first page alone still opens


def test_a_gif_opens_to_trace_by_its_name_in_any_case():
    """A GIF is a picture or a loop, never a label map: its name alone sends it to tracing."""
    from engine.data.trace_image import TRACE_SUFFIXES

    for name in ("loop.gif", "LOOP.GIF", "scan.jpg", "IM_0001.dcm"):
        assert name.lower().endswith(TRACE_SUFFIXES), name
    for name in ("mask.png", "mask.nii.gz"):
        assert not name.lower().endswith(TRACE_SUFFIXES), name
