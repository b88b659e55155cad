from cardigan_app.main_window import MainWindow


def test_main_window_opens_offscreen(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.isVisible() and "cardiGAN" in window.windowTitle()
