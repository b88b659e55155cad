"""The model panel, the dataset browser and the settings they remember, driven as a user would."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from cardigan_app.panels.dataset_browser import DatasetBrowser


def tiny_split(root: Path, count: int, split: str = "train") -> None:
    """``count`` 4 x 4 label maps (no images) in ``root/split``, and an empty ``test`` split."""
    labels = root / split / "label"
    labels.mkdir(parents=True)
    (root / "test" / "label").mkdir(parents=True)
    mask = np.zeros((4, 4), np.uint8)
    mask[1:3, 1:3] = 1
    for i in range(count):
        Image.fromarray(mask).save(labels / f"patient{i:04d}_4CH_ED.png")


def test_leaving_a_huge_split_with_most_of_it_filtered_out_is_instant(qtbot, tmp_path):
    tiny_split(tmp_path / "data", 3000)
    browser = DatasetBrowser()
    qtbot.addWidget(browser)
    browser.show()
    assert browser.open_folder(tmp_path / "data") and browser.list.count() == 3000
    browser.filter.setText("patient0042")
    assert sum(not browser.list.item(i).isHidden() for i in range(3000)) == 1
    start = time.perf_counter()
    browser.split.setCurrentText("test")
    assert time.perf_counter() - start < 0.5  # the window does not freeze
    assert browser.list.count() == 0
    browser.split.setCurrentText("train")
    assert browser.list.count() == 3000
    assert [i for i in range(3000) if not browser.list.item(i).isHidden()] == [42]  # the filter still applies
    browser.shutdown()
