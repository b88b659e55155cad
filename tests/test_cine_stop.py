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


def test_an_mp4_asked_to_stop_kills_ffmpeg_rather_than_let_it_finish(tmp_path, ffmpeg_processes):
    """A stop closed ffmpeg's input and waited while it encoded the frames it held (dozens:
    x264 looks ahead) and finished a file that was then thrown away."""
    images, masks = small_loop()
    path = tmp_path / "loop.mp4"
    path.write_bytes(b"an older loop")
    heard = []
    with pytest.raises(Cancelled):
        write_loop(path, images, masks, fps=25.0, progress=heard.append, should_stop=lambda: len(heard) >= 3)
    (ffmpeg,) = ffmpeg_processes
    assert ffmpeg.wait() < 0  # killed
    assert [p.name for p in tmp_path.iterdir()] == ["loop.mp4"] and path.read_bytes() == b"an older loop"


def test_an_hdf5_loop_is_compressed_and_written_frame_by_frame(tmp_path):
    """The chunk cache held every frame until the file was closed, where all were compressed:
    a stop heard then waited for that. Each frame is written as it is set."""
    images, masks = small_loop(frames=6, size=64)
    written = []  # bytes under the temporary name at each step

    def heard(event):
        written.append(sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.endswith(".tmp")))

    write_loop(tmp_path / "loop.h5", images, masks, fps=25.0, progress=heard)
    grown = np.diff(written[1:-1])  # from the first frame written to the last
    assert (grown > 0).all(), written
