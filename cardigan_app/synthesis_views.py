"""The live synthesis and the cine loop, shown in the window's views and panels.

:class:`SynthesisViews` is a base class of :class:`~cardigan_app.main_window.MainWindow` that
wires the live synthesis (:class:`~cardigan_app.synthesis.live.LiveSynthesis`) and the
timeline's cine loop to what shows them: each image synthesized in the echo view (not while a
loop plays), its time in the status bar, a failure in the status bar and the view's
placeholder, the busy note; the Seed and variations panel (the seed, the variation strength, the
variations turned on or off, more of them, each thumbnail as it comes); the loop between the key frames asked for,
each of its frames shown, and the live image back when it stops. It relies on the window's
live synthesis, state, timeline, key frames, document, echo view, panels, commands and
status bar widgets.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer

from .synthesis.jobs import SynthesisResult, VariationResult


class SynthesisViews:
    """The live synthesis and the cine loop wired to the views (a base class of the main window)."""

    def _connect_synthesis(self) -> None:
        """The Seed and variations panel to the state, the live synthesis and the timeline to
        the views."""
        live, state = self.live, self.state
        self.synthesis_panel.seedChanged.connect(lambda seed: state.set("seed", seed))
        self.synthesis_panel.styleChanged.connect(lambda scale: state.set("style_scale", scale))
        self.synthesis_panel.variationsToggled.connect(lambda on: state.set("variations", on))
        self.synthesis_panel.moreVariations.connect(self._more_variations)
        self.synthesis_panel.fittedHeightChanged.connect(lambda: QTimer.singleShot(0, self._fit_seed_panel))
        live.imageShown.connect(self._show_result)
        live.variationShown.connect(self._show_variation)
        live.synthesisFailed.connect(self._synthesis_failed)
        live.busyChanged.connect(self._busy_changed)
        live.cineShown.connect(self.timeline.show_loop)
        # a loop is made by the model and seed of its request: another model's (one still being
        # made is dropped when it comes) or another seed's is out of date, and made again if playing
        live.modelLoaded.connect(lambda _info: self.timeline.mark_stale(remake_now=True))
        live.cineFailed.connect(self.timeline.set_status)
        self.timeline.loopRequested.connect(self.request_loop)
        self.timeline.outdated.connect(live.drop_cine)
        self.timeline.frameShown.connect(self._show_loop_frame)
        self.timeline.stopped.connect(self._show_live_image)
        # View > Play cine loop (L) and the timeline's button are one switch
        play = self.commands["play"]
        self.timeline.play_button.toggled.connect(play.setChecked)
        self.timeline.play_button.setToolTip(play.toolTip())

    def request_loop(self) -> None:
        """Ask the synthesis process for the loop between the key frames."""
        frames = self.key_frames
        ed, es = frames.ed, frames.es
        if ed.shape != es.shape:
            self.timeline.set_status("ED and ES differ in size")
            return
        self.live.request_cine(ed.labels, es.labels, ed.id, ed.fan, self.state.cine_bpm, self.state.cine_fps)

    def _show_loop_frame(self, image, mask) -> None:
        self.echo_view.set_image(image)
        self.echo_view.set_labels(mask, list(self.state.visible))

    def _show_live_image(self) -> None:
        result = self.live.last_result
        self.echo_view.set_labels(self.document.labels, list(self.state.visible))
        if result is not None and result.document == self.document.id:
            self.echo_view.set_image(result.image)

    def set_seed(self, seed: int) -> None:
        self.state.set("seed", seed)

    def _more_variations(self) -> None:
        self.live.set_variations(True, self.live.variation_base + self.live.variation_count)
        self.synthesis_panel.set_variation_seeds(self.live.current_variation_seeds())

    def _show_result(self, result: SynthesisResult) -> None:
        if not self.timeline.playing:  # a playing loop keeps the view
            self.echo_view.set_image(result.image)
        if result.image.shape == self.document.shape:
            self.under_image.update_canvas_background()
        if not result.kept:  # an image kept for the key frame switched back to was timed when made
            self.latency.record(result.model_id, result.elapsed_s, result.first)
        self.status_widgets.time.setText(self.latency.status())
        self.status_widgets.time.setToolTip(self.latency.tooltip() + (f"\n{result.note}" if result.note else ""))
        self.synthesisShown.emit(result)

    def _show_variation(self, variation: VariationResult) -> None:
        self.synthesis_panel.set_variation(variation.index, variation.seed, variation.image)

    def _synthesis_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        self.synthesis_panel.stop_waiting()  # no variations come for this mask either
        if self.echo_view.image is None:
            self.echo_view.set_placeholder(message)

    def _busy_changed(self, busy: bool) -> None:  # the labels keep their width: nothing shifts
        text = "synthesizing\u2026" if busy else ""
        self.workspace.busy.setText(text)
        self.status_widgets.busy.setText(text)
