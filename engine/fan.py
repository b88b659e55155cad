"""The probe's fan: the sector of the picture an ultrasound image lives in.

A :class:`Fan` is six numbers in coordinates normalised by the picture's width (x) and
height (y), so one fan fits every size of the same picture:

- ``apex_x``, ``apex_y``: the transducer, as fractions of the width and the height
  (CAMUS: the top centre, 0.5 and about 0);
- ``left``, ``right``: the directions of the two straight edges, in degrees from straight
  down, negative toward the picture's left, measured in the normalised square;
- ``depth``: the distance from the apex to the arc straight down, as a fraction of the height;
- ``squash``: the arc's horizontal semi-axis over its vertical one, in the normalised square
  (1 for a circular arc; CAMUS frames are resampled to squares, which stretches the arc).

A point (u, v) = (x / W, y / H) lies inside when its direction from the apex lies between the
edges and ((u - apex_x) / (depth * squash))^2 + ((v - apex_y) / depth)^2 <= 1, and it lies
more than :data:`PROBE_FACE` of the picture's height (plus half a pixel) from the apex, so
:func:`fan_alpha` is exactly 0 within that radius: a phased-array image starts
at the probe's face, a short arc around the virtual apex, not at a point (every CAMUS frame of
the valid split has its first row black; its nearest lit pixel lies 2.3-2.7 px from the
fitted apex at 256x256, median 2.5).

:func:`fan_alpha` rasterises a fan with anti-aliased edges (coverage from the signed distance
in pixels), :func:`fit_fan` fits one to an image's support (drawing it at each step only near
its outline, :func:`fan_alpha_near_outline`) and :func:`fit_shared_fan` one to the supports of
several frames of one acquisition together (:func:`fan_overlaps` measures how well a fan
fitted to some frames covers others), :func:`default_fan` is the median
CAMUS fan of a view, used for every mask that comes without one.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from .errors import CardiganError

SUPPORT_THRESHOLD = 8  # grey level above which a median-filtered pixel is part of the scan
# a support covering more of the frame than this holds no sector: a sector leaves black at
# least at the top corners beside its apex (a CAMUS frame's covers at most about 0.6 of it, a
# wide sector cut to its own bounding box about 0.7); noise or a photo fills the frame, and a
# fan "fitted" to it is the whole picture at an IoU near 1
FULL_FRAME = 0.9
PROBE_FACE = 0.0075  # of the picture's height: the blank radius around the apex
FAN_KEY = "cardigan-fan"  # PNG text chunk and manifest key


class FanError(CardiganError):
    """A fan that cannot be used (leaves the picture, no width or depth, damaged record)."""


@dataclass(frozen=True)
class Fan:
    apex_x: float = 0.5
    apex_y: float = 0.0
    left: float = -37.0
    right: float = 37.0
    depth: float = 1.0
    squash: float = 1.0

    # -- derived -------------------------------------------------------------------------
    @property
    def width(self) -> float:
        """Opening angle in degrees (normalised square)."""
        return self.right - self.left

    @property
    def tilt(self) -> float:
        """Direction of the fan's centre line, degrees from straight down."""
        return (self.left + self.right) / 2.0

    def with_shape(self, *, depth: float | None = None, width: float | None = None,
                   tilt: float | None = None) -> "Fan":
        """This fan with another depth, opening or tilt (the others kept)."""
        w = self.width if width is None else float(width)
        t = self.tilt if tilt is None else float(tilt)
        return replace(self, left=t - w / 2.0, right=t + w / 2.0,
                       depth=self.depth if depth is None else float(depth))

    # -- the beam's geometry ---------------------------------------------------------------
    def beam_coordinates(self, ys, xs, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """(depth, angle) of pixel positions (``ys``, ``xs``, pixel units, centres at +0.5) in
        an (height, width) picture: depth is the distance from the apex in pixels of height,
        measured on the arcs (a point on the fan's arc has depth ``depth * height``); angle is
        in radians from straight down, positive toward the picture's right. Points of equal
        depth lie on one of the fan's arcs."""
        across = (np.asarray(xs, dtype=np.float64) - self.apex_x * width) / self.arc_stretch(height, width)
        down = np.asarray(ys, dtype=np.float64) - self.apex_y * height
        return np.hypot(across, down), np.arctan2(across, down)

    def beam_axes(self, ys, xs, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """(axial, lateral): (2, ...) unit vectors (dy, dx) at pixel positions (``ys``,
        ``xs``) along the beam (away from the apex) and across it (the arc's tangent)."""
        ys, xs = np.broadcast_arrays(np.asarray(ys, dtype=np.float64), np.asarray(xs, dtype=np.float64))
        _, angle = self.beam_coordinates(ys, xs, height, width)
        axial = np.stack([ys - self.apex_y * height, xs - self.apex_x * width])
        lateral = np.stack([-np.sin(angle), self.arc_stretch(height, width) * np.cos(angle)])
        return (axial / np.maximum(np.linalg.norm(axial, axis=0), 1e-9),
                lateral / np.maximum(np.linalg.norm(lateral, axis=0), 1e-9))

    def beam_point(self, depth, angle, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """The (ys, xs) pixel position of (depth, angle): :meth:`beam_coordinates` inverted."""
        return (self.apex_y * height + depth * np.cos(angle),
                self.apex_x * width + self.arc_stretch(height, width) * depth * np.sin(angle))

    def arc_stretch(self, height: int, width: int) -> float:
        """The arcs' horizontal semi-axis over their vertical one, in pixels."""
        return self.squash * width / height

    # -- checks and records --------------------------------------------------------------
    def problem(self) -> str | None:
        """Why this fan cannot be used, or None."""
        values = asdict(self)
        for name, value in values.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                return f"fan {name} is not a finite number"
        if not (0.0 <= self.apex_x <= 1.0 and -0.25 <= self.apex_y <= 1.0):
            return (f"the fan's apex ({self.apex_x:.3g}, {self.apex_y:.3g}) lies outside the picture "
                    "(x 0..1, y -0.25..1 of its size)")
        if self.depth <= 0:
            return f"the fan's depth must be positive, got {self.depth:.3g}"
        if self.depth > 3:
            return f"the fan's depth {self.depth:.3g} is more than three picture heights"
        if self.width <= 0:
            return (f"the fan's width must be positive, got {self.width:.3g} degrees "
                    f"(its left edge at {self.left:.3g}, its right edge at {self.right:.3g})")
        if self.left < -89 or self.right > 89:
            return f"the fan's edges must point downward (between -89 and 89 degrees), got {self.left:.3g}, {self.right:.3g}"
        if not 0.2 <= self.squash <= 5:
            return f"the fan's squash {self.squash:.3g} is outside 0.2..5"
        if _area_inside(self) < 0.1:
            return "the fan leaves the picture (less than a tenth of the picture lies inside it)"
        return None

    def checked(self) -> "Fan":
        problem = self.problem()
        if problem:
            raise FanError(problem)
        return self

    def to_dict(self) -> dict:
        return {k: round(float(v), 5) for k, v in asdict(self).items()}

    def rounded(self) -> "Fan":
        """This fan as its record holds it (five decimals), so what is drawn is what is saved."""
        return Fan(**self.to_dict())

    @classmethod
    def from_dict(cls, data) -> "Fan":
        """A fan from its record; FanError (one line) when the record is damaged."""
        if not isinstance(data, dict):
            raise FanError("the fan record is not an object")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise FanError(f"the fan record has unknown fields: {', '.join(unknown[:4])}")
        missing = sorted(names - set(data))
        if missing:
            raise FanError(f"the fan record lacks {', '.join(missing)}")
        values = {}
        for name in names:
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FanError(f"the fan record's {name} is not a number")
            values[name] = float(value)
        return cls(**values).checked()

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Fan":
        if not isinstance(text, str) or len(text) > 2000:
            raise FanError("the fan record is not a short JSON text")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise FanError("the fan record is not valid JSON") from None
        return cls.from_dict(data)


# The median of the fans fitted to the CAMUS train split (2023 release, 256x256), per view;
# regenerated by scripts/fit_fans.py. Real fans vary around it (docs/fan.md).
DEFAULT_FANS = {
    "4CH": Fan(apex_x=0.4996, apex_y=-0.0036, left=-32.10, right=32.09, depth=1.0046, squash=0.8221),
    "2CH": Fan(apex_x=0.4996, apex_y=-0.0038, left=-32.07, right=32.07, depth=1.0048, squash=0.8216),
}


# The scanner settings the fitted fans sit on (train split, 1,600 frames, scripts/fit_fans.py):
# (opening offset in degrees, squash offset, share of the frames), offsets from the view's
# median. Real fans are not spread evenly around the median: 84 % sit on it, within a fitting
# jitter (FAN_JITTER), and the rest on a few other settings, each an opening and a squash that
# move together (a wider sector drawn into the same square is squashed more). A fan drawn
# afresh for every image, as an even spread gives, is what real frames never show.
FAN_SETTINGS = (
    (-0.02, 0.0, 0.8409), (6.06, -0.115, 0.0388), (1.86, -0.044, 0.0388), (-3.1, 0.111, 0.0276),
    (-1.62, 0.051, 0.0276), (-4.32, 0.181, 0.0113), (25.76, -0.243, 0.0075), (14.28, -0.191, 0.005),
    (-5.5, 0.266, 0.0025),
)
FAN_JITTER = (0.113, 0.0022)  # SD of the opening (degrees) and squash about their setting
TILT_SD = 0.02  # the tilt is the same in nearly every frame, as are the apex and depth


def random_fan(rng: np.random.Generator, view: str | None = None) -> Fan:
    """A fan as a real acquisition of ``view`` has it: one of the real scanner settings
    (:data:`FAN_SETTINGS`, by their shares), within the fitting jitter about it (2 SD at most)."""
    base = default_fan(view)

    def draw(sd: float) -> float:
        return float(np.clip(rng.normal(0.0, sd), -2 * sd, 2 * sd))

    shares = np.array([share for _, _, share in FAN_SETTINGS])
    width, squash, _ = FAN_SETTINGS[int(rng.choice(len(FAN_SETTINGS), p=shares / shares.sum()))]
    fan = base.with_shape(width=base.width + width + draw(FAN_JITTER[0]), tilt=base.tilt + draw(TILT_SD))
    return replace(fan, squash=base.squash + squash + draw(FAN_JITTER[1])).rounded()


def default_fan(view: str | None = None) -> Fan:
    """The median CAMUS fan of ``view`` (2CH or 4CH; either when unknown)."""
    return DEFAULT_FANS.get(str(view).upper() if view else "4CH", DEFAULT_FANS["4CH"])


# -- rasterising ----------------------------------------------------------------------------
def pixel_centres(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(ys (H, 1), xs (1, W)) float64: the pixel centres of an (height, width) picture, at
    +0.5, broadcasting to (H, W): the positions :meth:`Fan.beam_coordinates` and
    :meth:`Fan.beam_axes` take."""
    return ((np.arange(height, dtype=np.float64) + 0.5)[:, None],
            (np.arange(width, dtype=np.float64) + 0.5)[None, :])


def pixel_depth(fan: Fan, height: int, width: int) -> np.ndarray:
    """(H, W) depth of every pixel centre of an (height, width) picture, in pixels from the
    apex along the beam (:meth:`Fan.beam_coordinates`)."""
    ys, xs = pixel_centres(height, width)
    return fan.beam_coordinates(ys, xs, height, width)[0]


def edge_distance(fan: Fan, height: int, width: int) -> np.ndarray:
    """(H, W) signed distance in pixels to the fan's outline, positive inside (the arc's is a
    first-order approximation, exact on the axes; the outline includes the probe's face, a
    circle of :data:`PROBE_FACE` of the height around the apex)."""
    ys, xs = pixel_centres(height, width)
    return np.minimum.reduce(_outline_distances(fan, ys, xs, height, width))


def _outline_distances(fan: Fan, ys, xs, height: int, width: int) -> list:
    """The signed distances (pixels, positive inside) of pixel centres (``ys``, ``xs``) of an
    (height, width) picture to each part of the fan's outline, in :data:`_OUTLINE_PARTS`'
    order; :func:`edge_distance` is their minimum."""
    return [part(fan, xs - fan.apex_x * width, ys - fan.apex_y * height, height, width)
            for part in _OUTLINE_PARTS]


def _edge_direction(angle: float, height: int, width: int) -> tuple[float, float, float]:
    """(vx, vy, length) in pixels of the direction of a straight edge at ``angle``."""
    rad = math.radians(angle)
    vx, vy = math.sin(rad) * width, math.cos(rad) * height
    return vx, vy, math.hypot(vx, vy)


def _side_distance(angle: float, sign: float, dx, dy, height: int, width: int):
    """Distance to the straight edge at ``angle`` (``sign`` 1 for the left, -1 for the right)
    of points (``dx``, ``dy``) pixels from the apex."""
    vx, vy, norm = _edge_direction(angle, height, width)
    # cross(v, d) > 0 means d lies clockwise of v on screen (to its left looking down y)
    return sign * (vy * dx - vx * dy) / norm


def _left_distance(fan: Fan, dx, dy, height: int, width: int):
    return _side_distance(fan.left, 1.0, dx, dy, height, width)


def _right_distance(fan: Fan, dx, dy, height: int, width: int):
    return _side_distance(fan.right, -1.0, dx, dy, height, width)


def _arc_distance(fan: Fan, dx, dy, height: int, width: int):
    ru, rv = fan.depth * fan.squash * width, fan.depth * height  # semi-axes in pixels
    g = np.sqrt((dx / ru) ** 2 + (dy / rv) ** 2)
    grad = np.sqrt((dx / ru ** 2) ** 2 + (dy / rv ** 2) ** 2) / np.maximum(g, 1e-9)
    return (1.0 - g) / np.maximum(grad, 1e-9)


def _face_distance(fan: Fan, dx, dy, height: int, width: int):
    return np.hypot(dx, dy) - PROBE_FACE * height - 0.5  # black out to the face, then the ramp


_OUTLINE_PARTS = (_left_distance, _right_distance, _arc_distance, _face_distance)


def fan_outline(fan: Fan, height: int, width: int, arc_points: int = 48) -> list[tuple[float, float]]:
    """The fan's outline in pixel coordinates: the apex, then along the arc from the left
    edge to the right one (a closed polygon for drawing)."""
    ax, ay = fan.apex_x * width, fan.apex_y * height
    points = [(ax, ay)]
    for phi in np.linspace(math.radians(fan.left), math.radians(fan.right), arc_points):
        su, cv = math.sin(phi), math.cos(phi)
        reach = 1.0 / math.sqrt((su / (fan.depth * fan.squash)) ** 2 + (cv / fan.depth) ** 2)
        points.append((ax + reach * su * width, ay + reach * cv * height))
    return points


def fan_alpha(fan: Fan, height: int, width: int) -> np.ndarray:
    """(H, W) float32 coverage of each pixel by the fan: 1 inside, 0 outside, anti-aliased
    over about one pixel at the edges."""
    return np.clip(edge_distance(fan, height, width) + 0.5, 0.0, 1.0).astype(np.float32)


# Real CAMUS frames hold no echo at the very tip of the fan, where the probe's face lies: on
# every fourth train frame the shallowest lit pixel lies 2.55 px deep at 256 (median; 2.25 at
# the 5th percentile, 2.77 at the 95th), and no frame lights a pixel of the top row. The
# networks lit the tip pixel of the top row in 99 % of their images, one bright dot a reader
# found in every synthetic image. Synthesis leaves black what lies shallower than this share
# of the picture's height (the 5th percentile), as those frames do.
APEX_BLACK = 2.25 / 256


def black_at_the_apex(images: np.ndarray, fans: list[Fan]) -> np.ndarray:
    """(N, 1, H, W) images in [-1, 1] made black (-1) where they lie shallower than
    :data:`APEX_BLACK` of their height below their fan's apex; a new array."""
    images = np.array(images, copy=True)
    height, width = images.shape[-2:]
    for image, fan in zip(images, fans):
        image[..., pixel_depth(fan, height, width) < APEX_BLACK * height] = -1.0
    return images


def fan_mask(fan: Fan, height: int, width: int) -> np.ndarray:
    """(H, W) bool: pixels at least half covered by the fan."""
    return edge_distance(fan, height, width) >= 0.0


OUTLINE_BLOCK = 16  # side in pixels of the squares :func:`fan_alpha_near_outline` sorts
_SURE = 0.5 + 1e-6  # half a pixel, and a margin for the rounding of the squares' bounds


def fan_alpha_near_outline(fan: Fan, height: int, width: int, block: int = OUTLINE_BLOCK) -> np.ndarray:
    """:func:`fan_alpha`, equal to the bit, measured pixel by pixel only where the outline
    may pass. The picture is cut into squares of ``block`` pixels; bounds of each part's
    distance over a square (:func:`_part_bounds`) show the squares that lie at least half a
    pixel inside every part (coverage 1) or half a pixel beyond one (coverage 0); in the
    others only the parts that may come within half a pixel are measured (a part farther
    inside leaves the clipped coverage as it is). Several times faster than
    :func:`fan_alpha` for the fit's hundreds of draws."""
    lows, highs = _part_bounds(fan, height, width, block)
    outside = np.logical_or.reduce(highs <= -_SURE)
    near = (lows < _SURE) & ~outside  # (parts, squares): the parts to measure in each square
    unsure = near.any(axis=0)
    squares = np.where(unsure | outside, 0.0, 1.0).astype(np.float32)[:, :, None, None]
    squares = np.repeat(np.repeat(squares, block, axis=2), block, axis=3)  # (rows, cols, block, block)
    rows, cols = np.nonzero(unsure)
    offsets = np.arange(block) + 0.5
    dy = (rows[:, None, None] * block + offsets[None, :, None]) - fan.apex_y * height  # (n, block, 1)
    dx = (cols[:, None, None] * block + offsets[None, None, :]) - fan.apex_x * width  # (n, 1, block)
    distance = np.full((rows.size, block, block), np.inf)
    for part, part_near in zip(_OUTLINE_PARTS, near[:, rows, cols]):
        pick = np.flatnonzero(part_near)
        distance[pick] = np.minimum(distance[pick], part(fan, dx[pick], dy[pick], height, width))
    squares[rows, cols] = np.clip(distance + 0.5, 0.0, 1.0)
    alpha = squares.transpose(0, 2, 1, 3).reshape(squares.shape[0] * block, squares.shape[1] * block)
    return np.ascontiguousarray(alpha[:height, :width])


def _part_bounds(fan: Fan, height: int, width: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(lows, highs): (4, ceil(H / block), ceil(W / block)) bounds of each part's distance
    (:data:`_OUTLINE_PARTS`) over the pixel centres of each square of ``block`` pixels."""
    ax, ay = fan.apex_x * width, fan.apex_y * height
    starts_y, starts_x = np.arange(0, height, block), np.arange(0, width, block)
    y_lo = (starts_y + 0.5 - ay)[:, None]
    y_hi = (np.minimum(starts_y + block, height) - 0.5 - ay)[:, None]
    x_lo = (starts_x + 0.5 - ax)[None, :]
    x_hi = (np.minimum(starts_x + block, width) - 0.5 - ax)[None, :]
    lows, highs = [], []
    for angle, sign in ((fan.left, 1.0), (fan.right, -1.0)):  # linear: extremes at the corners
        vx, vy, norm = _edge_direction(angle, height, width)
        a, b = sign * vy / norm, -sign * vx / norm
        across, down = (a * x_lo, a * x_hi), (b * y_lo, b * y_hi)
        lows.append(np.minimum(*across) + np.minimum(*down))
        highs.append(np.maximum(*across) + np.maximum(*down))
    # the points of each square nearest to the apex and farthest from it, per axis
    near_x, near_y = np.maximum(x_lo, 0.0) + np.minimum(x_hi, 0.0), np.maximum(y_lo, 0.0) + np.minimum(y_hi, 0.0)
    far_x, far_y = np.maximum(-x_lo, x_hi), np.maximum(-y_lo, y_hi)
    ru, rv = fan.depth * fan.squash * width, fan.depth * height
    with np.errstate(divide="ignore", invalid="ignore"):
        # the arc's distance is (1 - g) g / s: g the elliptic radius, s the norm of
        # (dx / ru^2, dy / rv^2), both growing away from the apex along each axis (written
        # out here with hypot: through _arc_distance's own terms the draw was 2-4% slower
        # at 64 x 64)
        g_near, g_far = np.hypot(near_x / ru, near_y / rv), np.hypot(far_x / ru, far_y / rv)
        s_far = np.hypot(far_x / ru ** 2, far_y / rv ** 2)
        lows.append(np.where(g_far < 1.0, (1.0 - g_far) * g_near / s_far, -np.inf))
        highs.append(np.where(g_near > 1.0, (1.0 - g_near) * g_near / s_far, np.inf))
    lows.append(_face_distance(fan, near_x, near_y, height, width))  # grows with the distance to the apex
    highs.append(_face_distance(fan, far_x, far_y, height, width))
    lows, highs = np.stack(lows), np.stack(highs)
    return np.where(np.isnan(lows), -np.inf, lows), np.where(np.isnan(highs), np.inf, highs)


def blur_within(image: np.ndarray, inside: np.ndarray, sigma: float, truncate: float = 4.0,
                inside_blur: np.ndarray | None = None) -> np.ndarray:
    """A Gaussian blur (``sigma`` pixels, reaching ``truncate`` sigmas) of an (H, W) ``image``
    that reads only the pixels where ``inside`` (the fan's mask, 0/1, or its coverage) is set:
    the blur of image x inside over the blur of inside, so the black beyond the fan's edge does
    not darken the pixels along it. ``inside_blur``, when given, is that blur of ``inside``
    (the same sigma and reach) kept from an earlier call on the same fan."""
    from scipy import ndimage

    inside = np.asarray(inside, dtype=np.float64)
    weight = ndimage.gaussian_filter(inside, sigma, truncate=truncate) if inside_blur is None else inside_blur
    blurred = ndimage.gaussian_filter(np.asarray(image, dtype=np.float64) * inside, sigma, truncate=truncate)
    return blurred / np.maximum(weight, 1e-3)


def _area_inside(fan: Fan, size: int = 64) -> float:
    """Share of a picture covered by the fan (coarse)."""
    return float(fan_mask(fan, size, size).mean())


# -- fitting --------------------------------------------------------------------------------
def image_support(image: np.ndarray, threshold: int = SUPPORT_THRESHOLD) -> np.ndarray:
    """(H, W) bool: where a (H, W) uint8 image holds signal (a 5x5 median above
    ``threshold``), the largest connected piece with its holes filled."""
    from scipy import ndimage

    # a median of 25 pixels lies above the threshold when at least 13 of them do: counting
    # them gives the median filter's answer (zeros beyond the border) several times faster
    above = (np.asarray(image, dtype=np.uint8) > threshold).astype(np.uint8)
    for axis in (0, 1):
        above = ndimage.correlate1d(above, np.ones(5), axis=axis, mode="constant")
    support = above >= 13
    labels, count = ndimage.label(support)
    if count > 1:
        sizes = ndimage.sum(support, labels, index=np.arange(1, count + 1))
        support = labels == (1 + int(np.argmax(sizes)))
    return ndimage.binary_fill_holes(support)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def _initial_fan(support: np.ndarray) -> Fan | None:
    """A first guess from the support's outline: edge lines from the left and right
    boundaries of the upper rows, the arc from the bottom boundary."""
    height, width = support.shape
    rows = np.flatnonzero(support.any(axis=1))
    if rows.size < 8:
        return None
    top, bottom = rows[0], rows[-1]
    span = bottom - top
    use = np.arange(top + int(0.15 * span), top + int(0.55 * span) + 1)
    use = use[support[use].any(axis=1)]
    if use.size < 4:
        return None
    left_x = support[use].argmax(axis=1) + 0.0
    right_x = width - 1 - support[use, ::-1].argmax(axis=1) + 1.0
    v = (use + 0.5) / height
    bl = np.polyfit(v, left_x / width, 1)  # u = b0 * v + b1
    br = np.polyfit(v, right_x / width, 1)
    if abs(bl[0] - br[0]) < 1e-6:
        return None
    apex_v = (br[1] - bl[1]) / (bl[0] - br[0])
    apex_u = bl[0] * apex_v + bl[1]
    left = math.degrees(math.atan(bl[0]))
    right = math.degrees(math.atan(br[0]))
    # arc: bottom-most support pixel of the columns well inside the edges
    cols = np.flatnonzero(support.any(axis=0))
    bottoms = height - 1 - np.argmax(support[::-1, :][:, cols], axis=0)
    du = (cols + 0.5) / width - apex_u
    dv = (bottoms + 1.0) / height - apex_v
    ang = np.degrees(np.arctan2(du, dv))
    keep = (ang > left + 0.2 * (right - left)) & (ang < right - 0.2 * (right - left)) & (bottoms < height - 1)
    depth, squash = max(bottom + 1.0, 1.0) / height - apex_v, 1.0
    if keep.sum() >= 6:
        design = np.stack([du[keep] ** 2, dv[keep] ** 2], 1)
        coef, *_ = np.linalg.lstsq(design, np.ones(int(keep.sum())), rcond=None)
        if coef[0] > 0 and coef[1] > 0:
            depth = 1.0 / math.sqrt(coef[1])
            squash = math.sqrt(coef[1] / coef[0])
    fan = Fan(float(apex_u), float(apex_v), float(left), float(right), float(depth), float(squash))
    return fan


def _soft_iou(fan: Fan, support: np.ndarray) -> float:
    """The overlap of the fan's coverage and a float32 0/1 ``support``."""
    alpha = fan_alpha_near_outline(fan, *support.shape)
    union = np.maximum(alpha, support).sum()
    return float(np.minimum(alpha, support).sum() / union) if union else 0.0


def fit_fan(image: np.ndarray, threshold: int = SUPPORT_THRESHOLD,
            iterations: int = 400) -> tuple[Fan, float]:
    """The fan that best covers a (H, W) uint8 image's support, and the IoU of the two.

    A first guess from the support's outline is refined by maximising the overlap
    (Nelder-Mead on a soft IoU). An image with no usable support gives the default fan
    and IoU 0: one with none, or one whose support fills the frame (more than
    :data:`FULL_FRAME` of it: noise, a photo), which holds no sector."""
    fan, overlaps = fit_shared_fan([image], threshold, iterations)
    return fan, overlaps[0]


def fit_shared_fan(images, threshold: int = SUPPORT_THRESHOLD,
                   iterations: int = 400) -> tuple[Fan, list[float]]:
    """The one fan that best covers the supports of several (H, W) uint8 images of the same
    size taken with one probe position and one scan setting (the frames of one acquisition),
    and the IoU of each image's support with it.

    As :func:`fit_fan` (which is this with one image), but the first guess comes from the
    union of the supports and the overlap maximised is the mean of the images' soft IoUs, so
    the frames' noise and content average out instead of giving each frame its own edges.
    No usable fan, or supports that together fill the frame, give the default fan and IoU 0
    for every image."""
    from scipy.optimize import minimize

    images = list(images)
    if not images:
        raise ValueError("fit_shared_fan needs at least one image")
    shapes = {np.shape(image) for image in images}
    if len(shapes) > 1:
        raise ValueError(f"fit_shared_fan needs images of one size, got {sorted(shapes)}")
    supports = [image_support(image, threshold) for image in images]
    union = np.logical_or.reduce(supports)
    if union.mean() > FULL_FRAME:
        return default_fan(), [0.0] * len(images)
    coverages = [support.astype(np.float32) for support in supports]
    start = _initial_fan(union)
    if start is None or start.problem():
        start = default_fan()
    x0 = np.array([start.apex_x, start.apex_y, start.left, start.right, start.depth,
                   math.log(max(start.squash, 0.2))])
    scale = np.array([0.01, 0.01, 1.0, 1.0, 0.01, 0.02])

    def unpack(z: np.ndarray) -> Fan:
        p = x0 + z * scale
        return Fan(p[0], p[1], p[2], p[3], p[4], math.exp(p[5]))

    def loss(z: np.ndarray) -> float:
        fan = unpack(z)
        if fan.width <= 1 or fan.depth <= 0.05 or fan.left < -89 or fan.right > 89:
            return 2.0
        return 1.0 - sum(_soft_iou(fan, coverage) for coverage in coverages) / len(coverages)

    result = minimize(loss, np.zeros(6), method="Nelder-Mead",
                      options={"maxfev": iterations, "xatol": 0.05, "fatol": 1e-5,
                               "initial_simplex": np.vstack([np.zeros(6), 3 * np.eye(6)])})
    fan = unpack(result.x).rounded()
    if fan.problem():
        return default_fan(), [0.0] * len(images)
    return fan, _support_overlaps(fan, supports)


def fan_overlaps(fan: Fan, images, threshold: int = SUPPORT_THRESHOLD) -> list[float]:
    """The IoU of each (H, W) uint8 image's support with ``fan`` (what :func:`fit_shared_fan`
    reports for the fan it fitted), for frames that take a fan fitted to other frames."""
    return _support_overlaps(fan, [image_support(image, threshold) for image in images])


def _support_overlaps(fan: Fan, supports: list[np.ndarray]) -> list[float]:
    drawn: dict = {}
    overlaps = []
    for support in supports:
        if support.shape not in drawn:
            drawn[support.shape] = fan_mask(fan, *support.shape)
        overlaps.append(iou(drawn[support.shape], support))
    return overlaps


# -- the fan as a network input -------------------------------------------------------------
def fan_classes(seg, alpha):
    """One-hot labels (N, L, H, W) and fan coverage (N, 1, H, W) -> the (N, L + 1, H, W)
    one-hot input of a fan model: channel L marks pixels less than half inside the fan,
    where the label channels are cleared."""
    import torch

    outside = (alpha < 0.5).to(seg.dtype)
    return torch.cat([seg * (1 - outside), outside], 1)


def fan_class_ids(ids, alpha, label_nc: int):
    """Class ids (N, H, W) and coverage (N, 1, H, W) -> ids with ``label_nc`` outside the fan."""
    import torch

    return torch.where(alpha[:, 0] < 0.5, torch.full_like(ids, label_nc), ids)


def apply_fan(image, alpha):
    """An image in [-1, 1] made black (-1) outside the fan: ``alpha * (image + 1) - 1``."""
    return alpha * (image + 1) - 1


# -- fans from users and files ---------------------------------------------------------------
SPEC_KEYS = ("apex_x", "apex_y", "left", "right", "depth", "squash", "width", "tilt")


def parse_fan_spec(text: str, base: Fan) -> Fan:
    """``base`` changed by a ``key=value,...`` text (keys: apex_x, apex_y, left, right,
    depth, squash, width, tilt) or replaced by a JSON fan record; FanError for anything else
    or for a fan that cannot be used."""
    text = str(text).strip()
    if text.startswith("{"):
        return Fan.from_json(text)
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in SPEC_KEYS:
            raise FanError(f"fan: {part!r} is not key=value with a key among {', '.join(SPEC_KEYS)}")
        try:
            number = float(value)
        except ValueError:
            raise FanError(f"fan: {key} {value.strip()!r} is not a number") from None
        if not math.isfinite(number):
            raise FanError(f"fan: {key} must be a finite number")
        values[key] = number
    plain = {k: v for k, v in values.items() if k in ("apex_x", "apex_y", "left", "right", "depth", "squash")}
    fan = replace(base, **plain)
    if "width" in values or "tilt" in values:
        fan = fan.with_shape(width=values.get("width"), tilt=values.get("tilt"))
    return fan.checked()


def view_of_name(name: str) -> str | None:
    """2CH or 4CH when a file name says so (CAMUS stems), else None."""
    upper = str(name).upper()
    for view in ("2CH", "4CH"):
        if view in upper:
            return view
    return None


def fan_from_text(text: dict[str, str], view: str | None = None) -> tuple[Fan, str | None]:
    """The fan recorded in a label PNG's text chunks, or the median fan of ``view``; with a
    note when the record was there but damaged."""
    record = text.get(FAN_KEY)
    if record is None:
        return default_fan(view), None
    try:
        return Fan.from_json(record), None
    except FanError as exc:
        return default_fan(view), f"damaged fan record ({exc}); using the median CAMUS fan"
