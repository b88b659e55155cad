"""A stop asked for while a cine loop is written is heard within a frame's work, in every
writer, and leaves the file that was at the loop's name as it was."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cine import write_loop
from engine.progress import Cancelled


def small_loop(frames: int = 8, size: int = 24):
    rng = np.random.default_rng(3)
    return (rng.integers(0, 255, (frames, size, size)).astype(np.uint8),
            rng.integers(0, 4, (frames, size, size)).astype(np.uint8))


@pytest.fixture
def gif_frames_encoded(monkeypatch):
    """The frames Pillow's GIF encoder has encoded so far (one call of ImageFile._save a frame)."""
    from PIL import ImageFile

    encoded, save = [], ImageFile._save

    def counted(*args, **kwargs):
        encoded.append(1)
        return save(*args, **kwargs)

    monkeypatch.setattr(ImageFile, "_save", counted)
    return encoded


def test_a_gif_asked_to_stop_after_a_frame_is_encoded_stops_at_the_next(tmp_path, gif_frames_encoded):
    """Pillow took every frame before it encoded the first: a stop asked for once the third
    frame was encoded was heard after all eight were."""
    images, masks = small_loop()
    path = tmp_path / "loop.gif"
    path.write_bytes(b"an older loop")
    with pytest.raises(Cancelled):
        write_loop(path, images, masks, fps=25.0, should_stop=lambda: len(gif_frames_encoded) >= 3)
    assert len(gif_frames_encoded) <= 4
    assert [p.name for p in tmp_path.iterdir()] == ["loop.gif"] and path.read_bytes() == b"an older loop"


def test_a_gifs_bar_moves_as_its_frames_are_encoded(tmp_path, gif_frames_encoded):
    """The bar reached the last frame before any was encoded, then stood still while all were."""
    images, masks = small_loop()
    encoded_when_heard = []
    write_loop(tmp_path / "loop.gif", images, masks, fps=25.0,
               progress=lambda event: encoded_when_heard.append((event.done, len(gif_frames_encoded))))
    assert encoded_when_heard == [(done, done) for done in range(len(images) + 1)]


def test_a_gif_written_frame_by_frame_plays_every_frame_at_its_delay(tmp_path):
    from PIL import Image

    from engine.cine.writers import gif_frames

    images, masks = small_loop(frames=7, size=33)
    images[2] = images[1]  # the same frame twice stays two frames
    images[3] = 9  # a frame of one colour
    kept, delays = gif_frames(len(images), 120.0)  # every third frame
    write_loop(tmp_path / "loop.gif", images, masks, fps=120.0)
    with Image.open(tmp_path / "loop.gif") as gif:
        assert gif.n_frames == len(kept) and gif.info["loop"] == 0
        for k, (index, delay) in enumerate(zip(kept, delays)):
            gif.seek(k)
            assert gif.info["duration"] == delay
            assert np.array_equal(np.asarray(gif.convert("L")), images[index])
