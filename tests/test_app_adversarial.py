"""The studio side of the second adversarial pass (issue 23): a dialog, never an exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from cardigan_app.testing import close_window, open_window
from test_adversarial import text_bomb_png


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda parent, title, text, *a, **k: shown.append(text)))
    return shown


# -- 14. a PNG text-chunk bomb ------------------------------------------------------------------

def test_a_png_text_bomb_is_a_dialog_not_an_exception(window, warnings, tmp_path):
    before = window.document
    bomb = text_bomb_png(tmp_path / "bomb.png", "ztxt")
    assert not window.files.open_path(bomb, confirmed=True)
    assert window.document is before
    assert len(warnings) == 1 and "text chunks are far larger" in warnings[0]


# -- 19. an anatomy record that is not a heart --------------------------------------------------

def valid_record(seed: int = 3) -> dict:
    from engine.anatomy import ShapeModel

    return {"view": "4CH", "phase": 0.0, "heart": ShapeModel.default().draw(seed).to_dict()}


def record_with(edit) -> str:
    record = valid_record()
    edit(record)
    return json.dumps(record)


BAD_RECORDS = {
    "a coefficient of 1e308": record_with(lambda r: r["heart"]["shape"].__setitem__(0, 1e308)),
    "nan": record_with(lambda r: r["heart"]["pose"].__setitem__(0, float("nan"))),
    "empty lists": record_with(lambda r: r["heart"].update(shape=[], pose=[])),
    "another model's heart": record_with(lambda r: r["heart"].update(model="0" * 16)),
    "an old parametric heart": json.dumps({"view": "4CH", "phase": 0.0, "heart": {"seed": 1, "lv_length": 0.5}}),
    "deep json": "[" * 200_000 + "]" * 200_000,
    "phase text": record_with(lambda r: r.update(phase="ES")),
}


def mask_with_record(path: Path, text: str) -> Path:
    from engine.anatomy.heart import ANATOMY_KEY
    from engine.anatomy import template_mask
    from engine.maskio import write_label_png

    write_label_png(path, template_mask("4CH", "ED", seed=1, size=64), text={ANATOMY_KEY: text})
    return path


def test_a_bad_anatomy_record_opens_the_mask_without_it(window, warnings, tmp_path):
    good = mask_with_record(tmp_path / "good.png", json.dumps(valid_record()))
    for case, text in BAD_RECORDS.items():  # one window for all cases: opening one takes seconds
        warnings.clear()
        assert window.files.open_path(good, confirmed=True) and window.anatomy_panel.heart is not None
        assert warnings == []
        assert window.files.open_path(mask_with_record(tmp_path / "bad.png", text), confirmed=True), case
        assert window.document.anatomy is None and window.anatomy_panel.heart is None, case  # no old heart
        assert len(warnings) == 1 and "anatomy" in warnings[0] and "\n" not in warnings[0], case


def test_every_heart_the_studio_makes_passes_the_schema():
    from engine.anatomy import ShapeModel
    from engine.anatomy.heart import anatomy_record_problem

    model = ShapeModel.default()
    for seed in range(30):
        heart = model.draw(seed)
        hearts = [heart, *(model.preset(name) for name in model.presets),
                  *(model.move(heart, d, sds) for d in model.directions for sds in (-6.0, 6.0)),
                  model.with_ejection_fraction(heart, 70.0)]
        for each in hearts:
            record = {"view": "2CH", "phase": 1.0, "heart": each.to_dict()}
            assert anatomy_record_problem(record, model) is None, (seed, anatomy_record_problem(record, model))


# -- 19. stats.jsonl lines that are not records -------------------------------------------------

def test_the_training_panel_skips_bad_stats_lines_and_says_how_many(qtbot, tmp_path):
    from cardigan_app.training.progress_panel import TrainingPanel

    run = tmp_path / "run"
    run.mkdir()
    (run / "stats.jsonl").write_text('{"iter": 10, "epoch": 0, "Loss/G_GAN": 1.0}\n{"iter": "x"}\n'
                                     '{"iter": 1e999}\n{"iter": 20, "Loss/G_GAN": NaN}\n[1]\n')
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel._load_history(run)
    assert "skipped 4 damaged lines of stats.jsonl" in panel.log_view.toPlainText()
