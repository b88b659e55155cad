"""Writing a loop: animated GIF, MP4, 2D+t NIfTI (images and masks), HDF5, DICOM or PNG frames.

The format follows the output's name:

- ``.gif``: an endless animated GIF (Pillow, through imageio). A GIF times its frames in
  hundredths of a second and players stretch a delay under two of them, so the delays are
  rounded so that they add up to the loop's length (:func:`gif_frames`) and above 50 fps
  only every second (third, ...) frame is kept: the heart beats at its rate either way;
- ``.mp4``: H.264 video (imageio's ffmpeg plugin, whose wheel carries its own ffmpeg);
- ``.nii.gz`` / ``.nii``: the images as a 2D+t volume and the masks beside it as
  ``<name>_gt.nii.gz``, as CAMUS stores its half sequences (columns x rows x frames, identity
  direction, the in-plane spacing given, 1 along time);
- ``.h5`` / ``.hdf5``: datasets ``images`` and ``masks`` (T, H, W) uint8 with the timing,
  phases and ejection fraction as attributes (:func:`read_hdf5_loop` reads them back, as the
  studio opens such a file to edit its key frames; under :func:`decoded_at_most` a loop whose
  datasets hold more than a given size is refused before its data is read);
- ``.dcm``: an ultrasound multi-frame DICOM file with its frame time, for DICOM viewers and
  PACS (the images only; marked as synthetic, :func:`engine.data.dicom_echo.write_dicom_echo`);
- anything else is a folder: ``img/frame_000.png`` and ``label/frame_000.png`` (a label PNG
  per frame; three digits up to 1,000 frames, four from 1,001, so the names sort in time) with ``loop.json``
  (:func:`frames_loop_folder` knows such a folder by it, or by one of its label frames, and
  :func:`read_frames_loop` reads it back, as the studio opens it to edit its key frames). An
  empty folder of that name is replaced, and kept if the loop cannot be moved into its place
  (one a killed export had moved aside is put back first: :func:`engine.fileio.restore_replaced`).

Every file is written under a temporary name and renamed when complete, so a killed export
never leaves a file that looks finished. A NIfTI loop's two files are renamed one after the
other once both are complete; if the second rename fails (or is interrupted), the first file
is put back as it was (:func:`engine.fileio.atomic_paths`): new images never sit beside old
masks. A kill between the two renames leaves them mixed until the pair is next read or
written, which puts the old images back first (:func:`engine.maskio.restore_nifti_pair`).

A writer reports how far it is through ``progress`` (:class:`~engine.progress.Progress`,
stage :data:`WRITING`): ``done`` of ``total`` steps, a frame each for GIF, MP4, HDF5 and PNG
frames (a GIF's frame once it is encoded and written), a file each for NIfTI (the images, then
the masks), one for DICOM (its frames go out in one call: :func:`_write_dicom`); ``total`` of ``total`` once the loop is in place. Between steps,
and once more before the finished file replaces the one at ``path``, it asks ``should_stop``;
when that says yes it raises :class:`~engine.progress.Cancelled` and removes what it wrote
under temporary names: the files at ``path`` (and a NIfTI loop's masks beside it) are left as
they were, and a PNG-frames folder is not made.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path

import numpy as np

from ..errors import CardiganError
from ..fileio import atomic_path, describe_os_error, replace_folder, require_space, restore_replaced, short_write
from ..maskio import mask_path_for, write_nifti_files
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress

FORMATS = {".gif": "GIF", ".mp4": "MP4", ".nii.gz": "NIfTI", ".nii": "NIfTI", ".h5": "HDF5", ".hdf5": "HDF5",
           ".dcm": "DICOM"}


def output_kind(path: Path) -> str:
    """``gif``, ``mp4``, ``nifti``, ``hdf5``, ``dicom`` or ``folder`` for an output path."""
    name = path.name.lower()
    for suffix, kind in (("nii.gz", "nifti"), (".nii", "nifti"), (".gif", "gif"), (".mp4", "mp4"),
                         (".hdf5", "hdf5"), (".h5", "hdf5"), (".dcm", "dicom")):
        if name.endswith(suffix):
            return kind
    if path.suffix:
        raise CardiganError(f"{path}: cannot write {path.suffix} loops (use .gif, .mp4, .nii.gz, .h5, .dcm, "
                            "or a folder name for PNG frames)")
    return "folder"


WRITING = "writing the loop"  # the stage a writer's progress names


class Steps:
    """A writer's way through ``total`` steps: where it says how far it is, and where it stops
    when asked (see the module)."""

    def __init__(self, total: int, progress: ProgressCallback = no_progress,
                 should_stop: StopCheck = never_stop) -> None:
        self.total = max(1, total)
        self._progress = progress
        self._should_stop = should_stop

    def at(self, done: int) -> None:
        """``done`` steps are written (all of them: the file is complete but not yet in place):
        raise :class:`Cancelled` when a stop was asked for, else say how far it is."""
        if self._should_stop():
            raise Cancelled("the loop export was cancelled")
        if done < self.total:
            self._progress(Progress(WRITING, done, self.total))

    def finished(self) -> None:
        """The loop is in place."""
        self._progress(Progress(WRITING, self.total, self.total))


def write_loop(path: Path, images: np.ndarray, masks: np.ndarray, fps: float, info: dict | None = None,
               study=None, series_number: int = 1, progress: ProgressCallback = no_progress,
               should_stop: StopCheck = never_stop) -> list[Path]:
    """Write (T, H, W) uint8 ``images`` with their ``masks``; returns the paths written. A DICOM
    loop goes into ``study`` (:class:`engine.data.dicom_echo.DicomStudy`) as series
    ``series_number``: one patient's views as series of one study. ``progress`` hears how far
    it is; when ``should_stop`` says yes it raises :class:`~engine.progress.Cancelled` and
    leaves nothing written (see the module)."""
    path = Path(path)
    kind = output_kind(path)
    images = np.ascontiguousarray(images, dtype=np.uint8)
    masks = np.ascontiguousarray(masks, dtype=np.uint8)
    assert images.shape == masks.shape and images.ndim == 3, (images.shape, masks.shape)
    info = dict(info or {})
    steps = Steps(step_count(kind, len(images), fps), progress, should_stop)
    if kind == "gif":
        written = [_write_gif(path, images, fps, steps)]
    elif kind == "mp4":
        written = [_write_mp4(path, images, fps, steps)]
    elif kind == "nifti":
        written = _write_nifti(path, images, masks, fps, steps)
    elif kind == "hdf5":
        written = [_write_hdf5(path, images, masks, fps, info, steps)]
    elif kind == "dicom":
        written = [_write_dicom(path, images, fps, info, study, series_number, steps)]
    else:
        written = [_write_folder(path, images, masks, fps, info, steps)]
    steps.finished()
    return written


def step_count(kind: str, frames: int, fps: float) -> int:
    """How many steps writing a loop of ``frames`` as ``kind`` reports (see the module)."""
    if kind == "gif":
        return len(gif_frames(frames, fps)[0])
    return {"nifti": 2, "dicom": 1}.get(kind, frames)


GIF_MAX_FPS = 50.0  # a GIF delay under 2 hundredths of a second is played as 10


def gif_frames(count: int, fps: float) -> tuple[np.ndarray, list[int]]:
    """Which of ``count`` frames at ``fps`` a GIF keeps, and each kept frame's delay in
    milliseconds (whole hundredths of a second, at least two). Frame ``i`` is due at
    ``i / fps`` and the loop ends at ``count / fps``; each delay runs from its frame's time to
    the next kept frame's, both rounded to hundredths, so the delays add up to the loop's
    length to the nearest hundredth."""
    step = max(1, int(np.ceil(fps / GIF_MAX_FPS - 1e-9)))
    kept = np.arange(0, count, step)
    ends = np.append(kept, count) / fps
    ticks = np.rint(ends * 100.0).astype(int)
    return kept, [10 * max(2, int(d)) for d in np.diff(ticks)]


def _write_gif(path: Path, images: np.ndarray, fps: float, steps: Steps) -> Path:
    """Each kept frame is encoded and written in turn, a step each, so a stop is heard within a
    frame's work and the bar moves while the GIF is encoded. (Pillow's own animated GIF writer
    takes every frame before it encodes the first: a stop would be heard only once all were
    encoded.) Pillow encodes each frame as a GIF of its own (:func:`_gif_frame`); the loop is
    the first one's header, then each frame's blocks with its own colour table."""
    kept, delays = gif_frames(len(images), fps)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as file:
            for done, (index, delay) in enumerate(zip(kept, delays)):
                steps.at(done)
                head, table, blocks = _gif_parts(_gif_frame(images[index], delay, first=done == 0))
                file.write(head + table + blocks if done == 0 else _with_local_table(blocks, table))
            file.write(b";")  # the trailer
        steps.at(len(kept))
    return path


def _gif_frame(image: np.ndarray, delay: int, first: bool) -> bytes:
    """A (H, W) uint8 frame as a one-frame GIF shown for ``delay`` milliseconds; the first one
    says that the animation loops for ever."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="GIF", duration=delay, **({"loop": 0} if first else {}))
    return buffer.getvalue()


def _gif_parts(data: bytes) -> tuple[bytes, bytes, bytes]:
    """A one-frame GIF's header (up to its global colour table), that table, and its blocks
    (extensions and the image, without the trailer)."""
    if data[:3] != b"GIF" or data[-1:] != b";" or len(data) < 14:
        raise CardiganError("the GIF encoder wrote a frame this writer cannot read")
    packed, head_end = data[10], 13
    table_end = head_end + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    return data[:head_end], data[head_end:table_end], data[table_end:-1]


def _with_local_table(blocks: bytes, table: bytes) -> bytes:
    """A frame's blocks (:func:`_gif_parts`) with its colour ``table`` given to its image as a
    local one (every image after the first keeps its own colours). An application extension
    (the loop count, said once) is left out."""
    out, at = bytearray(), 0
    while at < len(blocks):
        if blocks[at] == 0x21:  # an extension: its label, then sub-blocks up to an empty one
            end = _after_sub_blocks(blocks, at + 2)
            if blocks[at + 1] != 0xFF:
                out += blocks[at:end]
            at = end
        elif blocks[at] == 0x2C:  # an image descriptor (10 bytes), then the LZW code size and data
            packed = blocks[at + 9]
            local = 3 << ((packed & 7) + 1) if packed & 0x80 else 0
            data_at = at + 10 + local
            end = _after_sub_blocks(blocks, data_at + 1)
            if local:  # it has its own colours already
                out += blocks[at:end]
            else:
                size = (len(table) // 3).bit_length() - 2  # the table holds 2 ** (size + 1) colours
                out += blocks[at:at + 9] + bytes([packed | 0x80 | size]) + table + blocks[data_at:end]
            at = end
        else:
            raise CardiganError("the GIF encoder wrote a frame this writer cannot read")
    return bytes(out)


def _after_sub_blocks(data: bytes, at: int) -> int:
    """Where the GIF sub-blocks starting at ``at`` end (after the empty one that closes them)."""
    while data[at]:
        at += data[at] + 1
    return at + 1


def _write_mp4(path: Path, images: np.ndarray, fps: float, steps: Steps) -> Path:
    import imageio_ffmpeg

    height, width = images.shape[1:]
    # H.264 in yuv420p (what every player opens) needs even sides: pad with black
    padded = np.pad(images, ((0, 0), (0, height % 2), (0, width % 2)))
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(str(tmp), (padded.shape[2], padded.shape[1]), fps=fps,
                                             codec="libx264", pix_fmt_in="gray", pix_fmt_out="yuv420p",
                                             quality=8, macro_block_size=1, ffmpeg_log_level="fatal",
                                             output_params=["-f", "mp4"])
        writer.send(None)
        try:
            for done, frame in enumerate(padded):
                steps.at(done)
                writer.send(np.ascontiguousarray(frame))
        except BaseException:
            _abandon(writer)
            raise
        writer.close()  # ffmpeg encodes the frames it holds and finishes the file
        if not mp4_complete(tmp):  # ffmpeg meets a full disk with a line of its own, and imageio with none
            raise short_write(path)
        steps.at(len(padded))
    return path


def mp4_complete(path: Path) -> bool:
    """Whether the MP4 file at ``path`` is whole: its top-level boxes (a 32-bit size, or 1 and a
    64-bit one, then the type) fill the file exactly and hold the media data (``mdat``) and the
    index written last (``moov``). A write a full disk stopped fails one or the other."""
    size, at, kinds = path.stat().st_size, 0, set()
    with open(path, "rb") as handle:
        while at < size:
            handle.seek(at)
            head = handle.read(16)
            if len(head) < 8:
                return False
            box, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if box == 1 and len(head) == 16:
                box = int.from_bytes(head[8:16], "big")
            elif box == 0:  # the last box, to the end of the file
                box = size - at
            if box < 8:
                return False
            kinds.add(kind)
            at += box
    return at == size and {b"mdat", b"moov"} <= kinds


class _Abandoned(BaseException):
    """Thrown into imageio-ffmpeg's frame writer, which kills ffmpeg on an exception that is not
    an :class:`Exception` (on a close, or any other, it waits for ffmpeg to encode the dozens of
    frames it holds and finish a file that is thrown away)."""


def _abandon(writer) -> None:
    """End a stopped MP4 write now: ffmpeg is killed, not left to finish."""
    try:
        writer.throw(_Abandoned())
    except _Abandoned:
        pass


def _write_nifti(path: Path, images: np.ndarray, masks: np.ndarray, fps: float, steps: Steps) -> list[Path]:
    written = [path, mask_path_for(path)]
    # the pair replaced together or not at all: a stop after the images, or a failing rename of
    # the second file, leaves both as they were
    write_nifti_files(list(zip(written, (images, masks))), checkpoint=steps.at)
    return written


def _write_dicom(path: Path, images: np.ndarray, fps: float, info: dict, study, series_number: int,
                 steps: Steps) -> Path:
    """One step, and a stop heard only before it and at its end. The pixel data is one DICOM
    element: :func:`~engine.data.dicom_echo.write_dicom_echo` makes it from the whole (T, H, W)
    array at once (uncompressed, one copy of its bytes; no loop over frames in this code) and
    pydicom writes the file in one call, so there is no point between frames to ask
    ``should_stop`` or move ``progress``. A stop asked for meanwhile is heard once the file is
    complete under its temporary name, before it replaces the one at ``path``: that file is
    left as it was. The write is an uncompressed copy of the frames, as long as writing them
    to disk takes."""
    from ..data.dicom_echo import write_dicom_echo

    steps.at(0)
    write_dicom_echo(path, images, fps, description="synthetic echocardiogram loop", heart_rate=info.get("bpm"),
                     study=study, series_number=series_number, before_replacing=lambda: steps.at(1))
    return path


def _write_hdf5(path: Path, images: np.ndarray, masks: np.ndarray, fps: float, info: dict, steps: Steps) -> Path:
    """A chunk a frame, compressed and written frame by frame (a step each; a reader's frame is
    one chunk)."""
    import h5py

    with atomic_path(path) as tmp:
        require_space(tmp, images.nbytes + masks.nbytes)  # HDF5 crashes the process closing a file on a full disk
        # no chunk cache: each frame's chunk is compressed and written as it is set, not all at the close
        with h5py.File(tmp, "w", rdcc_nbytes=0) as f:
            chunks = (1, *images.shape[1:])
            stored = [f.create_dataset(name, shape=images.shape, dtype=np.uint8, chunks=chunks, compression="gzip")
                      for name in HDF5_LOOP_DATASETS]
            for done in range(len(images)):
                steps.at(done)
                for dataset, frames in zip(stored, (images, masks)):
                    dataset[done] = frames[done]
            f.attrs["fps"] = float(fps)
            for key, value in info.items():
                f.attrs[key] = value if not isinstance(value, (dict, list)) else json.dumps(value)
        steps.at(len(images))
    return path


def is_hdf5_loop(path: Path) -> bool:
    """Whether ``path`` is an HDF5 file holding a loop as :func:`write_loop` writes one (top-level
    ``images`` and ``masks``), not the seed's dataset layout."""
    return _open_hdf5_loop(path, lambda f: True) is not None


HDF5_LOOP_DATASETS = ("images", "masks")


def read_hdf5_loop(path: Path, images: bool = True, masks: bool = True
                   ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The (T, H, W) uint8 images and label masks of an HDF5 loop (:func:`is_hdf5_loop`), each
    read only when asked (None when not); anything else is one line."""
    read = read_if_hdf5_loop(path, images, masks)
    if read is None:
        raise CardiganError(f"{path}: not a loop's HDF5 file (images and masks)")
    return read


def read_if_hdf5_loop(path: Path, images: bool = True, masks: bool = True
                      ) -> tuple[np.ndarray | None, np.ndarray | None] | None:
    """:func:`read_hdf5_loop` when ``path`` is an HDF5 loop (:func:`is_hdf5_loop`), None when it
    is not one: the file opened once, to tell and to read."""
    from ..labels import validate_label_map

    read = _open_hdf5_loop(path, lambda f: _hdf5_loop_arrays(f, path, images, masks))
    if read is None:
        return None
    grey, labels = read
    return (None if grey is None else grey.astype(np.uint8),
            None if labels is None else validate_label_map(labels, str(path)))


def _open_hdf5_loop(path: Path, work):
    """``work(f)`` on the open HDF5 file at ``path`` when it holds a loop's datasets, None for
    any other file (one named as a label map is read as one: a misnamed HDF5 file is said so
    by that read); a loop that cannot be read is one line."""
    from ..maskio import MASK_FILE_SUFFIXES, is_hdf5_file

    if Path(path).name.lower().endswith(MASK_FILE_SUFFIXES) or not is_hdf5_file(path):
        return None
    import h5py

    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError):
        return None
    with f:
        try:
            if not all(isinstance(f.get(name), h5py.Dataset) for name in HDF5_LOOP_DATASETS):
                return None
        except (OSError, ValueError):
            return None
        try:
            return work(f)
        except (OSError, KeyError, ValueError, AttributeError) as exc:
            raise CardiganError(f"{path}: not a loop's HDF5 file (images and masks) ({exc})") from None


class LoopTooLarge(Exception):
    """A loop read under :func:`decoded_at_most` (an HDF5 loop, a DICOM cine named as a
    picture) holds more than that allows (``decoded``: the bytes its asked-for frames hold). No
    :class:`CardiganError`: nothing is wrong with the file, the caller reads it elsewhere."""

    def __init__(self, path: Path, decoded: int) -> None:
        super().__init__(path)
        self.decoded = decoded


_DECODED_AT_MOST: ContextVar[int | None] = ContextVar("decoded_at_most", default=None)


@contextlib.contextmanager
def decoded_at_most(limit: int) -> Iterator[None]:
    """For the block, on this thread: an HDF5 loop whose asked-for datasets hold more than
    ``limit`` bytes decoded (their shapes and types say it; a gzip-compressed loop is a small
    file) is :class:`LoopTooLarge`, told by the same open that would read it, before any of
    its data is read; so is a DICOM file named as a picture (``scan.png``), by its header,
    once it is found to be DICOM (:func:`within_decoded_limit`)."""
    token = _DECODED_AT_MOST.set(limit)
    try:
        yield
    finally:
        _DECODED_AT_MOST.reset(token)


def within_decoded_limit(path: Path, decoded: Callable[[], int | None]) -> None:
    """Under :func:`decoded_at_most`, :class:`LoopTooLarge` when ``path`` holds more than it
    allows decoded (``decoded()``, asked only then; None: not known, let through)."""
    limit = _DECODED_AT_MOST.get()
    if limit is None:
        return
    size = decoded()
    if size is not None and size > limit:
        raise LoopTooLarge(path, size)


def _hdf5_loop_arrays(f, path: Path, images: bool, masks: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The asked-for datasets of the open HDF5 loop ``f``, once their shapes agree and their
    size is within :func:`decoded_at_most`."""
    shapes = [f[name].shape for name in HDF5_LOOP_DATASETS]
    if len(shapes[0]) != 3 or shapes[0] != shapes[1]:
        raise CardiganError(f"{path}: a loop's images and masks must be frames of one size, got "
                            f"{shapes[0]} and {shapes[1]}")
    wanted = [name for name, asked in zip(HDF5_LOOP_DATASETS, (images, masks)) if asked]
    within_decoded_limit(path, lambda: sum(f[name].nbytes for name in wanted))
    return tuple(np.asarray(f[name]) if name in wanted else None for name in HDF5_LOOP_DATASETS)


LOOP_INFO = "loop.json"  # a PNG-frames loop's timing, beside its frame folders
IMAGE_FRAMES, LABEL_FRAMES = "img", "label"


def frames_loop_folder(path: Path) -> Path | None:
    """The PNG-frames loop folder :func:`write_loop` wrote that ``path`` is, or whose label
    frame (``label/frame_000.png``) it is; None for anything else."""
    path = Path(path)
    if path.is_dir():
        folder = path
    elif path.parent.name == LABEL_FRAMES and path.suffix.lower() == ".png":
        folder = path.parent.parent
    else:
        return None
    return folder if (folder / LOOP_INFO).is_file() and (folder / LABEL_FRAMES).is_dir() else None


def frames_loop_bytes(folder: Path) -> int | None:
    """How many bytes a PNG-frames loop (:func:`frames_loop_folder`) holds decoded: its label
    and image frames at the first frame's size, from the PNG's header alone; None when it
    cannot be told."""
    from PIL import Image

    frames = _frame_files(folder, LABEL_FRAMES)
    if not frames:
        return None
    try:
        with Image.open(frames[0]) as first:
            width, height = first.size
    except (OSError, ValueError):
        return None
    return 2 * len(frames) * width * height


def _frame_files(folder: Path, kind: str) -> list[Path]:
    return sorted((folder / kind).glob("frame_*.png"))


def read_frames_loop(folder: Path, images: bool = True, masks: bool = True
                     ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The (T, H, W) uint8 images and label masks of a PNG-frames loop
    (:func:`frames_loop_folder`), each decoded only when asked (None when not); anything
    else is one line."""
    from ..labels import validate_label_map
    from ..maskio import read_label_map

    labels = _frame_files(folder, LABEL_FRAMES)
    if not labels:
        raise CardiganError(f"{folder}: a PNG-frames loop without {LABEL_FRAMES}/frame_*.png")
    read = [read_label_map(file) for file in labels] if masks else []
    if len({mask.shape for mask in read}) > 1:
        raise CardiganError(f"{folder}: the loop's label frames differ in size")
    label_maps = validate_label_map(np.stack(read), str(folder)) if masks else None
    if not images:
        return None, label_maps
    pictures = _frame_files(folder, IMAGE_FRAMES)
    if [file.name for file in pictures] != [file.name for file in labels]:
        raise CardiganError(f"{folder}: {IMAGE_FRAMES}/ and {LABEL_FRAMES}/ do not hold the same frames")
    from PIL import Image

    grey = []
    for file in pictures:
        with Image.open(file) as picture:
            grey.append(np.asarray(picture.convert("L")))
    if len({frame.shape for frame in grey} | ({read[0].shape} if read else set())) > 1:
        raise CardiganError(f"{folder}: the loop's images and label frames differ in size")
    return np.stack(grey).astype(np.uint8), label_maps


def _write_folder(path: Path, images: np.ndarray, masks: np.ndarray, fps: float, info: dict, steps: Steps) -> Path:
    from ..data.imaging import save_png

    if not path.parent.is_dir():  # made by no writer: a stop would leave it behind
        raise CardiganError(f"{path.parent}: folder does not exist")
    restore_replaced(path)  # a folder a killed export had moved aside, checked as the one it was
    if path.exists() and not path.is_dir():
        raise CardiganError(f"{path}: a file of that name is there; PNG frames go into a folder")
    if path.exists() and any(path.iterdir()):
        raise CardiganError(f"{path}: the folder is not empty")
    staging = path.with_name(f".{path.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    digits = max(3, len(str(len(images) - 1)))  # names that sort in time
    try:
        (staging / IMAGE_FRAMES).mkdir(parents=True)
        (staging / LABEL_FRAMES).mkdir()
        for i, (image, mask) in enumerate(zip(images, masks)):
            steps.at(i)
            save_png(staging / IMAGE_FRAMES / f"frame_{i:0{digits}d}.png", image)
            save_png(staging / LABEL_FRAMES / f"frame_{i:0{digits}d}.png", mask)
        (staging / LOOP_INFO).write_text(json.dumps({"fps": fps, **info}, indent=2) + "\n")
        steps.at(len(images))
        replace_folder(staging, path)  # an empty folder there is kept until the loop is in
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):  # a frame's write names no file: name the loop's folder
            raise CardiganError(describe_os_error(exc, path)) from None
        raise
    return path
