"""The test configuration's treatment of Qt's own messages: a Qt warning fails the test that
printed it, except notes on the machine rather than the studio (the offscreen platform's, a
missing runtime folder, missing fonts)."""

from __future__ import annotations

import pytest


def test_qt_warnings_fail_tests(pytestconfig):
    assert pytestconfig.getini("qt_log_level_fail") == "WARNING"


@pytest.mark.qt_log_level_fail("NO")
def test_only_notes_on_the_machine_are_ignored(qtlog):
    from PySide6.QtCore import qWarning

    qWarning("This plugin does not support propagateSizeHints()")
    qWarning("This plugin does not support grabbing the keyboard")
    qWarning("QStandardPaths: XDG_RUNTIME_DIR not set, defaulting to '/tmp/runtime-root'")
    qWarning("Populating font family aliases took 120 ms. Replace uses of missing font family \"Sans\"")
    qWarning("QLayout: Attempting to add QLayout \"\" to QWidget \"\", which already has a layout")
    qWarning("QWidget::setMinimumSize: (/QLabel) Negative sizes (-1,-1) are not possible")
    assert [record.ignored for record in qtlog.records] == [True, True, True, True, False, False]
