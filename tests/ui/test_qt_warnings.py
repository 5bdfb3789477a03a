"""The suite fails on any Qt warning it does not expect: pytest-qt's qt_log_level_fail, with a short ignore list."""

from PySide6.QtCore import qWarning


def test_qt_warnings_fail_tests_except_the_offscreen_plugins_own(request, qtlog):
    assert request.config.getini("qt_log_level_fail") == "WARNING"
    ignored = request.config.getini("qt_log_ignore")
    assert len(ignored) == 3  # each one justified beside it in pyproject.toml
    qWarning("This plugin does not support raise()")  # the offscreen plugin's: captured, ignored
    assert [r.message for r in qtlog.records] == ["This plugin does not support raise()"]
    assert qtlog.records[0].ignored
