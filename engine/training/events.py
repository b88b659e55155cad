"""Typed events the training loop reports; the CLI, the app and the tests consume them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from ..errors import Words, message_from_parts, message_parts


@dataclass(frozen=True)
class Started:
    run_dir: str
    total_iters: int
    iters_per_epoch: int
    start_iter: int  # > 0 when resuming
    device: str
    config: dict


@dataclass(frozen=True)
class ProgressUpdate:
    iteration: int
    total_iters: int
    epoch: int
    total_epochs: int
    img_per_s: float
    eta_s: float


@dataclass(frozen=True)
class Scalars:
    """One logged step, as its ``stats.jsonl`` record holds it without ``iter`` and ``epoch``:
    ``Loss/*``, ``Progress/*`` (speed, learning rate) and ``Diag/*`` by namespaced name."""

    iteration: int
    epoch: int
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SamplePreview:
    iteration: int
    path: str


@dataclass(frozen=True)
class CheckpointSaved:
    iteration: int
    path: str
    model_path: str


@dataclass(frozen=True)
class Finished:
    iteration: int
    model_path: str
    stopped_early: bool


@dataclass(frozen=True)
class Told:
    """An event a user reads: ``message`` in the command line's words, ``parts`` the same with
    its advice (:func:`engine.errors.message_parts`) so that a front end says it in its own
    words (:meth:`said`); a sender that gives no parts gives plain text."""

    message: str
    parts: tuple = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.parts))  # a list, once it has been JSON

    @classmethod
    def of(cls, message: str):
        """The event for ``message`` (a :class:`~engine.errors.Message` keeps its advice)."""
        return cls(str(message), tuple(message_parts(message)))

    def said(self, words: Words) -> str:
        """The message with ``words`` for its advice."""
        return message_from_parts(self.parts).said(words) if self.parts else self.message


@dataclass(frozen=True)
class Failed(Told):
    """The run ended on a problem the user can fix."""


@dataclass(frozen=True)
class Notice(Told):
    """An informational line (``resuming from iteration N``, a skipped option ...)."""


TrainEvent = (Started | ProgressUpdate | Scalars | SamplePreview | CheckpointSaved | Finished
              | Failed | Notice)
EventCallback = Callable[[TrainEvent], None]

EVENT_TYPES = {cls.__name__: cls for cls in (Started, ProgressUpdate, Scalars, SamplePreview,
                                             CheckpointSaved, Finished, Failed, Notice)}


def event_to_dict(event: TrainEvent) -> dict:
    """A JSON-friendly dict with the event's type name (for sending between processes)."""
    return {"type": type(event).__name__, **asdict(event)}


def event_from_dict(data: dict) -> TrainEvent:
    data = dict(data)
    return EVENT_TYPES[data.pop("type")](**data)


@dataclass
class TrainCallbacks:
    """What the caller plugs into ``train``: an event sink and a stop check."""

    on_event: EventCallback = lambda event: None
    should_stop: Callable[[], bool] = lambda: False
