"""The window's widgets and views following the studio state.

:class:`StateBinding` is a base class of :class:`~cardigan_app.main_window.MainWindow` that
holds the observers on the :class:`~cardigan_app.state.StudioState`: the canvas's tool,
brush, class, opacity and visible classes, the palette's hint, the echo and real-image views'
mode, blend and labels, the side-by-side panes, the seed, the variation strength (style scale)
and the variations given to the live synthesis and its panel, and a model loaded again on another
device. Each is set from the state at once (the seed, strength, variations and device only on
change: the window starts with them)
and again whenever the state changes.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer

from .window_chrome import tool_hint


class StateBinding:
    """The widgets and views observing the studio state (a base class of the main window)."""

    def _bind_state(self) -> None:
        """Every widget and view that shows a choice follows the state (set now, then on change)."""
        state, canvas, views = self.state, self.canvas, (self.echo_view, self.workspace.reference_view)

        def tool(key: str) -> None:
            canvas.set_tool(key)
            self.palette.set_hint(tool_hint(key, state.square_brush))

        def square_brush(square: bool) -> None:
            canvas.update()
            self.palette.set_hint(tool_hint(state.tool, square))

        def active_label(label: int) -> None:
            self.palette.set_active(label)
            if state.tool == "eraser":
                state.set("tool", "brush")
            canvas.update()

        def visible(_flags) -> None:
            canvas.refresh_visibility()
            for view in views:
                view.set_labels(self.document.labels, list(state.visible))

        def side_by_side(on: bool) -> None:
            if self.workspace.echo_pane.isHidden() == on:
                self.workspace.echo_pane.setVisible(on)
                self.workspace.balance()
                QTimer.singleShot(0, self.fit_views)
            canvas.set_show_background(state.show_synthesis_under_mask or not on)
            self.under_image.update_canvas_background()

        def seed(value: int) -> None:
            self.synthesis_panel.set_seed(value)
            self.live.set_seed(value)
            self.timeline.mark_stale(remake_now=True)
            self.synthesis_panel.set_variation_seeds(self.live.current_variation_seeds())

        def style_scale(value: float) -> None:
            self.synthesis_panel.set_style_scale(value)
            self.live.set_style_scale(value or None)
            self.timeline.mark_stale(remake_now=True)
            self.synthesis_panel.mark_stale()  # the variations shown are of the strength before

        def variations(on: bool) -> None:
            self.live.set_variations(on)
            self.synthesis_panel.set_variation_seeds(self.live.current_variation_seeds())

        def device(spec: str) -> None:
            model = self.live.model
            if model is not None and spec == model.device and not self.live.loading:
                return  # already there (a failed switch gives the choice back)
            if model is not None:
                self.live.load(model.spec, spec)
            else:
                self.live.device_spec = spec

        def echo_mode(mode: str) -> None:
            for view in views:
                view.set_mode(mode)

        def blend(alpha: float) -> None:
            for view in views:
                view.set_blend(alpha)

        for name, observer in (("tool", tool), ("active_label", active_label), ("visible", visible),
                               ("side_by_side", side_by_side), ("seed", seed), ("style_scale", style_scale),
                               ("variations", variations),
                               ("device", device), ("echo_mode", echo_mode), ("blend", blend),
                               ("overlay_opacity", canvas.set_opacity), ("brush_diameter", lambda _: canvas.update()),
                               ("square_brush", square_brush),
                               ("show_synthesis_under_mask",
                                lambda on: canvas.set_show_background(on or not state.side_by_side))):
            state.observe(name, observer, now=name not in ("seed", "style_scale", "variations", "device"))
