"""What the eye tells first: the fan's outline, the texture's spectrum, black holes, brightness.

- **Fan fit**: the image's support (a 5x5 median above 8) against the fan the image was
  given (IoU), and against the sector fitted to the support itself (how much the outline
  looks like a sector at all: straight edges, an arc).
- **Spectrum**: the radially averaged log power spectrum of 64x64 windows lying wholly
  inside the fan (mean removed, Hann-tapered), averaged over windows. Two figures: the fine
  detail, mean log power in the top third of the radial frequencies minus the bottom third
  (speckle gives fine detail; a painted look has little), and the largest narrow peak, the
  curve's largest excess over a line through its neighbours (a grid texture stands out as a peak).
- **The finest octave's shape**, from the same windows: how steeply the power falls over the
  last eighth of the radial frequencies (0.4375-0.5 cycles per pixel) against the band below
  it (0.30-0.41), and how much of the power between 0.36 and 0.5 cycles per pixel lies at
  frequencies within 30 degrees of vertical against within 30 degrees of horizontal. In a
  CAMUS frame the finest detail fades towards the pixel limit (the frames were resampled) and
  runs along the beam (axial resolution is finer than lateral), so near the fan's centre line
  it changes from row to row more than from column to column; per-pixel noise is flat and the
  same in every direction.
- **Holes**: connected dark components (grey < 6, at least 12 pixels) inside the tissue, away
  from the fan's edge; real echocardiograms have none.
- **Speckle's direction** (:mod:`.speckle`): how far the grain reaches across the beam and
  along it, and their ratio; streaks a few pixels long along the beam (spokes from the apex);
  and the speckle's skew per region (real speckle leans bright).
- **Drawn borders** (:mod:`.borders`): how much stronger the image's edges are at the mask's
  borders than a few pixels away from them (a traced outline shows up).
- **Brightness spread**: for one mask and several seeds, the spread of each region's mean grey
  level, so a bright and a dim image of the same heart show up.

Everything here is plain numpy on uint8 images; natural logarithms throughout.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

WINDOW = 64
STRIDE = 32
BINS = 32  # radial frequency bins from 0 to 0.5 cycles per pixel
FIRST_PEAK_BIN = 4  # 0.0625 cycles per pixel
PEAK_REACH = 3  # neighbours on each side that predict a bin in the narrow-peak measure
HOLE_GREY = 6
HOLE_MIN_PIXELS = 12
HOLE_EDGE_MARGIN = 6  # pixels away from the fan's edge
PATCH_GREY = 245  # saturated after a 3x3 median
PATCH_MIN_PIXELS = 80  # real valid images: 8 of 100 hold one; the previous model's 24 of 100


@lru_cache(maxsize=4)
def _radial_index(size: int, bins: int) -> tuple[np.ndarray, np.ndarray]:
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    radius = np.sqrt(fx ** 2 + fy ** 2)
    index = np.minimum((radius / 0.5 * bins).astype(np.int64), bins)  # bins == beyond Nyquist
    taper = np.hanning(size)
    return index, np.outer(taper, taper)


def window_origins(inside: np.ndarray, window: int = WINDOW, stride: int = STRIDE) -> list[tuple[int, int]]:
    """Top-left corners of ``window``-sized squares lying wholly inside the (H, W) bool map."""
    height, width = inside.shape
    integral = np.pad(inside.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    out = []
    for y in range(0, height - window + 1, stride):
        for x in range(0, width - window + 1, stride):
            total = (integral[y + window, x + window] - integral[y, x + window]
                     - integral[y + window, x] + integral[y, x])
            if total == window * window:
                out.append((y, x))
    return out


def tapered_windows(image: np.ndarray, inside: np.ndarray, window: int = WINDOW):
    """Each ``window``-sized square of a (H, W) image lying wholly inside ``inside``, as float64
    with its mean removed and a Hann taper applied (what every spectrum here is taken of)."""
    taper = _radial_index(window, BINS)[1]
    for y, x in window_origins(inside, window):
        patch = image[y:y + window, x:x + window].astype(np.float64)
        yield (patch - patch.mean()) * taper


def log_spectrum(image: np.ndarray, inside: np.ndarray, window: int = WINDOW,
                 bins: int = BINS) -> np.ndarray | None:
    """The radially averaged log power spectrum (``bins`` values, bin 0 holds the lowest
    frequencies) over the windows of one (H, W) image lying inside ``inside``; None when no
    window fits."""
    index = _radial_index(window, bins)[0]
    counts = np.bincount(index.ravel(), minlength=bins + 1)[:bins]
    curves = []
    for patch in tapered_windows(image, inside, window):
        power = np.abs(np.fft.rfft2(patch)) ** 2
        sums = np.bincount(index.ravel(), weights=power.ravel(), minlength=bins + 1)[:bins]
        curves.append(np.log(sums / np.maximum(counts, 1) + 1e-8))
    return np.mean(curves, axis=0) if curves else None


def fine_detail(curve: np.ndarray) -> float:
    """Mean log power of the top third of the frequencies minus the bottom third (skipping
    the bin that holds the window's mean)."""
    usable = curve[1:]
    third = len(usable) // 3
    return float(usable[-third:].mean() - usable[:third].mean())


def _excess(curve: np.ndarray, reach: int = PEAK_REACH) -> np.ndarray:
    """Each bin's excess over the line fitted to its neighbours within ``reach`` bins (the
    bin itself left out), from ``FIRST_PEAK_BIN`` on (the lowest frequencies, where the
    spectrum turns over, are not texture): a smooth curve is predicted well, a peak not."""
    n = len(curve)
    out = np.zeros(n)
    for i in range(FIRST_PEAK_BIN, n):
        near = [j for j in range(max(FIRST_PEAK_BIN - 1, i - reach), min(n, i + reach + 1)) if j != i]
        slope, intercept = np.polyfit(near, curve[near], 1)
        out[i] = curve[i] - (slope * i + intercept)
    return out


def _rise(curve: np.ndarray) -> np.ndarray:
    """How far each bin lies above the lowest bin before it (from ``FIRST_PEAK_BIN``): a
    texture's spectrum keeps falling with frequency, a grid makes it climb again."""
    out = np.zeros(len(curve))
    lowest = np.minimum.accumulate(curve[FIRST_PEAK_BIN:])
    out[FIRST_PEAK_BIN:] = curve[FIRST_PEAK_BIN:] - lowest
    return out


def _peaks(curve: np.ndarray) -> np.ndarray:
    curve = np.asarray(curve, dtype=np.float64)
    return np.maximum(_excess(curve), _rise(curve))


def narrow_peak(curve: np.ndarray) -> float:
    """The largest of a bin's excess over the line through its neighbours and its rise over
    the lowest bin before it: 0 for a spectrum falling smoothly with frequency."""
    return float(np.max(_peaks(curve)[FIRST_PEAK_BIN:]))


FALLOFF_TOP = (0.4375, 0.5)  # cycles per pixel: the finest band of the falloff
FALLOFF_BELOW = (0.30, 0.41)  # the band it is compared with
ANISOTROPY_BAND = (0.36, 0.5)  # radial frequencies of the anisotropy
ANISOTROPY_CONE = 30.0  # degrees either side of the vertical and the horizontal axis


@lru_cache(maxsize=4)
def _fine_bands(size: int) -> tuple[np.ndarray, ...]:
    """Bool masks over an rfft2 grid of ``size``: the falloff's two bands and the
    anisotropy's vertical and horizontal cones."""
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    radius = np.sqrt(fx ** 2 + fy ** 2)
    angle = np.degrees(np.arctan2(np.abs(fy), fx))  # 0: horizontal frequencies, 90: vertical

    def band(lo, hi):
        return (radius >= lo) & (radius < hi)

    ring = band(*ANISOTROPY_BAND)
    return (band(*FALLOFF_TOP), band(*FALLOFF_BELOW), ring & (angle > 90.0 - ANISOTROPY_CONE),
            ring & (angle < ANISOTROPY_CONE))


def finest_octave(images: np.ndarray, insides: np.ndarray, window: int = WINDOW) -> dict:
    """The finest octave's shape (module docstring) of (N, H, W) uint8 images over their
    windows inside ``insides``: ``falloff`` (log of the mean power in :data:`FALLOFF_TOP` over
    that in :data:`FALLOFF_BELOW`, from the power summed over every window) and
    ``anisotropy`` (log of the power in the vertical cone over the horizontal one), NaN
    without a window."""
    top, below, vertical, horizontal = _fine_bands(window)
    total = np.zeros(top.shape)
    for image, inside in zip(images, insides):
        for patch in tapered_windows(image, inside, window):
            total += np.abs(np.fft.rfft2(patch)) ** 2
    if not total.any():
        return {"falloff": float("nan"), "anisotropy": float("nan")}
    return {"falloff": float(np.log(total[top].mean() / total[below].mean())),
            "anisotropy": float(np.log(total[vertical].mean() / total[horizontal].mean()))}


def spectrum_summary(images: np.ndarray, insides: np.ndarray) -> dict:
    """Mean spectrum of (N, H, W) uint8 images over their windows inside ``insides``:
    ``curve`` (the log spectrum), ``fine_detail``, ``narrow_peak``, the peak's frequency
    in cycles per pixel, and the finest octave's ``falloff`` and ``anisotropy``
    (:func:`finest_octave`)."""
    curves = [c for c in (log_spectrum(img, inside) for img, inside in zip(images, insides))
              if c is not None]
    if not curves:
        return {"curve": [], "fine_detail": float("nan"), "narrow_peak": float("nan"),
                "peak_frequency": float("nan"), "falloff": float("nan"), "anisotropy": float("nan"),
                "images": 0}
    curve = np.mean(curves, axis=0)
    peak_bin = int(np.argmax(_peaks(curve)[FIRST_PEAK_BIN:])) + FIRST_PEAK_BIN
    return {"curve": [round(float(v), 4) for v in curve], "fine_detail": fine_detail(curve),
            "narrow_peak": narrow_peak(curve), "peak_frequency": (peak_bin + 0.5) * 0.5 / len(curve),
            **finest_octave(images, insides), "images": len(curves)}


def black_holes(image: np.ndarray, inside: np.ndarray, grey: int = HOLE_GREY,
                min_pixels: int = HOLE_MIN_PIXELS, margin: int = HOLE_EDGE_MARGIN) -> int:
    """Connected components darker than ``grey`` of at least ``min_pixels`` pixels lying
    inside the fan wholly at least ``margin`` pixels from its edge (a dark region reaching
    the edge is dropout, not a hole)."""
    from scipy import ndimage

    core = ndimage.binary_erosion(inside, iterations=margin)
    dark = (np.asarray(image) < grey) & inside
    labels, count = ndimage.label(dark)
    if count == 0:
        return 0
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    touching = np.unique(labels[dark & ~core])
    sizes[touching] = 0
    return int((sizes[1:] >= min_pixels).sum())


def saturated_patches(image: np.ndarray, inside: np.ndarray, grey: int = PATCH_GREY,
                      min_pixels: int = PATCH_MIN_PIXELS) -> int:
    """Connected components inside the fan of at least ``min_pixels`` pixels at ``grey`` or
    brighter after a 3x3 median (isolated bright speckles do not count): the white blobs a
    reader notices near the valve plane."""
    from scipy import ndimage

    bright = (ndimage.median_filter(np.asarray(image), 3) >= grey) & inside
    labels, count = ndimage.label(bright)
    if count == 0:
        return 0
    return int((np.bincount(labels.ravel())[1:] >= min_pixels).sum())


def brightness_spread(images_per_seed: np.ndarray, labels: np.ndarray, insides: np.ndarray) -> dict:
    """(K, N, H, W) uint8 images of N masks under K seeds: per region, the mean over masks of
    the range (max - min over seeds) of the region's mean grey level, and the largest such
    range; with ``deviation`` the largest distance of one seed's region mean from the mean
    over seeds."""
    out = {}
    for name, label in (("background", 0), ("lv", 1), ("myo", 2), ("la", 3)):
        ranges = []
        for n in range(images_per_seed.shape[1]):
            region = labels[n] == label
            if label == 0:
                region &= insides[n]
            if region.sum() < 20:
                continue
            means = images_per_seed[:, n][:, region].astype(np.float64).mean(axis=1)
            ranges.append(means.max() - means.min())
        out[name] = {"mean_range": float(np.mean(ranges)) if ranges else float("nan"),
                     "max_range": float(np.max(ranges)) if ranges else float("nan")}
    return out


def seed_offsets(images_per_seed: np.ndarray, real: np.ndarray, labels: np.ndarray,
                 insides: np.ndarray) -> dict:
    """Per region, the largest distance over seeds between one seed's mean grey level (over
    the N masks) and the real images' mean on the same masks: a seed that makes every image
    too bright or too dark shows here."""
    out = {}
    for name, label in (("background", 0), ("lv", 1), ("myo", 2), ("la", 3)):
        region = labels == label
        if label == 0:
            region = region & insides
        if region.sum() == 0:
            out[name] = float("nan")
            continue
        real_mean = real[region].astype(np.float64).mean()
        per_seed = [seed_images[region].astype(np.float64).mean() for seed_images in images_per_seed]
        out[name] = float(max(abs(m - real_mean) for m in per_seed))
    return out


def fan_fit(images: np.ndarray, fans: list, sector_images: int = 60) -> dict:
    """How each (N, H, W) uint8 image's support matches the fan it was given (IoU: median,
    lowest, share at least 0.98), the brightest grey level outside the fan (0 = black), and,
    on the first ``sector_images``, the IoU with the sector fitted to the support itself."""
    from ..fan import fan_alpha, fan_mask, fit_fan, image_support, iou

    given, outside = [], []
    for image, fan in zip(images, fans):
        height, width = image.shape
        support = image_support(image)
        given.append(iou(support, fan_mask(fan, height, width)))
        out_of_fan = fan_alpha(fan, height, width) == 0
        outside.append(int(image[out_of_fan].max()) if out_of_fan.any() else 0)
    sector = [fit_fan(image)[1] for image in images[:sector_images]]
    given = np.array(given)
    return {"iou_given_median": float(np.median(given)), "iou_given_lowest": float(given.min()),
            "share_at_least_0.98": float((given >= 0.98).mean()),
            "brightest_outside": int(max(outside)), "images_grey_outside": int(sum(o > 0 for o in outside)),
            "iou_sector_median": float(np.median(sector)) if sector else float("nan"),
            "iou_sector_p10": float(np.percentile(sector, 10)) if sector else float("nan")}


def tells(real: np.ndarray, synthetic: np.ndarray, labels: np.ndarray, fans: list,
          images_per_seed: np.ndarray | None = None, sector_images: int = 60) -> dict:
    """Every measure of this module for synthetic images made from the masks (and fans) of
    the real ones, with the real images' own values beside them."""
    from ..fan import fan_mask
    from .borders import border_edges
    from .depth import grey_by_depth
    from .ring_down_fit import RANGES as BAND_RANGES
    from .ring_down_fit import arc_profiles, band_strength
    from .speckle import beam_streaks, edge_band, speckle_direction, speckle_skew

    insides = np.stack([fan_mask(fan, *image.shape) for image, fan in zip(real, fans)])
    real_spec = spectrum_summary(real, insides)
    synth_spec = spectrum_summary(synthetic, insides)
    out = {
        "fan": {"synthetic": fan_fit(synthetic, fans, sector_images),
                "real": fan_fit(real, fans, sector_images)},
        "spectrum": {"real": {k: v for k, v in real_spec.items() if k != "curve"},
                     "synthetic": {k: v for k, v in synth_spec.items() if k != "curve"},
                     "curves": {"real": real_spec["curve"], "synthetic": synth_spec["curve"]}},
        "holes": {"real_images": int(sum(black_holes(i, m) > 0 for i, m in zip(real, insides))),
                  "synthetic_images": int(sum(black_holes(i, m) > 0 for i, m in zip(synthetic, insides))),
                  "images": int(len(real))},
        "saturated": {"real_images": int(sum(saturated_patches(i, m) > 0 for i, m in zip(real, insides))),
                      "synthetic_images": int(sum(saturated_patches(i, m) > 0
                                                  for i, m in zip(synthetic, insides))),
                      "images": int(len(real))},
    }
    out["speckle"] = {"real": speckle_direction(real, fans), "synthetic": speckle_direction(synthetic, fans)}
    out["streaks"] = {"real": beam_streaks(real, fans), "synthetic": beam_streaks(synthetic, fans)}
    out["edge_band"] = {"real": edge_band(real, fans), "synthetic": edge_band(synthetic, fans)}
    out["speckle_skew"] = {"real": speckle_skew(real, labels, fans), "synthetic": speckle_skew(synthetic, labels, fans)}
    out["borders"] = {"real": border_edges(real, labels, insides), "synthetic": border_edges(synthetic, labels, insides)}
    out["arc_bands"] = {"ranges": [list(r) for r in BAND_RANGES], "real": band_strength(arc_profiles(real, fans)),
                        "synthetic": band_strength(arc_profiles(synthetic, fans))}
    out["depth"] = {"real": grey_by_depth(real, labels, insides), "synthetic": grey_by_depth(synthetic, labels, insides)}
    if images_per_seed is not None and len(images_per_seed) > 1:
        n = images_per_seed.shape[1]
        out["seeds"] = {"brightness_spread": brightness_spread(images_per_seed, labels[:n], insides[:n]),
                        "worst_seed_offset": seed_offsets(images_per_seed, real[:n], labels[:n], insides[:n])}
    return out
