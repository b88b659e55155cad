"""The test configuration's treatment of Qt's own messages: a Qt warning fails the test that
printed it, except the offscreen platform's notes on what it cannot do."""

from __future__ import annotations

import pytest


def test_qt_warnings_fail_tests(pytestconfig):
    assert pytestconfig.getini("qt_log_level_fail") == "WARNING"


@pytest.mark.qt_log_level_fail("NO")
def test_only_the_offscreen_platforms_notes_are_ignored(qtlog):
    from PySide6.QtCore import qWarning

    qWarning("This plugin does not support propagateSizeHints()")
    qWarning("This plugin does not support grabbing the keyboard")
    qWarning("QLayout: Attempting to add QLayout \"\" to QWidget \"\", which already has a layout")
    assert [record.ignored for record in qtlog.records] == [True, True, False]
