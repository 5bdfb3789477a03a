"""Replay bar: the "REPLAY ... not live" banner, a time slider over the journal, a time picker, step and live buttons."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtWidgets import QDateTimeEdit, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from kraken_monitor.text import replay as text
from kraken_monitor.ui import theme

DRAG_SETTLE_MS = 150  # a drag replays when the slider rests this long (each read is a few journal seeks)


def _qt(at: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(at.timestamp())).toLocalTime()


class ReplayBar(QWidget):
    """Hidden while live. `show_range(first, last)` sets what the slider covers, `show_moment(at)` the banner.

    Emits `moment_wanted(datetime)` (slider rested, picker + Replay, a step) and `live_wanted()`; the
    controller (ui/replay_controller.py) decides what is shown. Seconds resolution: cycles are >= 0.05 s
    apart, so a step button walks cycle by cycle where the slider cannot.
    """

    moment_wanted = Signal(object)  # aware datetime
    step_wanted = Signal(bool)  # True = the next cycle, False = the previous one
    live_wanted = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("replayBar")
        bg, fg = theme.REPLAY_COLORS
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            f"QWidget#replayBar {{ background: {bg}; border-radius: 4px; }}"
            f" QLabel#replayBanner {{ color: {fg}; font-weight: bold; font-size: 13pt; padding: 2px 8px; }}"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.banner = QLabel(text.BAR_LABEL)
        self.banner.setObjectName("replayBanner")
        self.previous_button = QPushButton("\u25c0")
        self.previous_button.setToolTip("Previous recorded cycle (Alt+Left)")
        self.previous_button.setShortcut("Alt+Left")
        self.next_button = QPushButton("\u25b6")
        self.next_button.setToolTip("Next recorded cycle (Alt+Right)")
        self.next_button.setShortcut("Alt+Right")
        for button in (self.previous_button, self.next_button):
            button.setFixedWidth(32)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("replaySlider")
        self.slider.setMinimumWidth(160)
        self.picker = QDateTimeEdit()
        self.picker.setObjectName("replayPicker")
        self.picker.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        self.picker.setCalendarPopup(True)
        self.picker.setToolTip(text.TIME_TIP)
        self.go_button = QPushButton(text.GO_BUTTON)
        self.go_button.setToolTip(text.GO_TIP)
        self.live_button = QPushButton(text.LIVE_BUTTON)
        self.live_button.setObjectName("replayLiveButton")
        self.live_button.setToolTip(text.LIVE_TIP)
        layout.addWidget(self.banner)
        layout.addWidget(self.previous_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.next_button)
        layout.addWidget(self.picker)
        layout.addWidget(self.go_button)
        layout.addWidget(self.live_button)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(DRAG_SETTLE_MS)
        self._settle.timeout.connect(self._slider_moment)
        self.slider.valueChanged.connect(lambda _v: self._settle.start())
        self.slider.sliderReleased.connect(self._slider_moment)
        self.go_button.clicked.connect(self._picker_moment)
        self.picker.editingFinished.connect(self._picker_moment)
        self.previous_button.clicked.connect(lambda: self.step_wanted.emit(False))
        self.next_button.clicked.connect(lambda: self.step_wanted.emit(True))
        self.live_button.clicked.connect(self.live_wanted)
        self._shown: datetime | None = None
        self.hide()

    def show_range(self, first: datetime, last: datetime) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(int(first.timestamp()), max(int(first.timestamp()), int(last.timestamp()) + 1))
        self.slider.blockSignals(False)
        self.slider.setToolTip(text.slider_tip(first, last))
        self.picker.setDateTimeRange(_qt(first), _qt(last).addSecs(1))

    def show_moment(self, at: datetime) -> None:
        """The replayed cycle: banner, slider and picker all name it (without asking for it again)."""
        self._shown = at
        self.banner.setText(text.banner(at))
        self.banner.setToolTip(text.banner_tip(at))
        self._settle.stop()
        for widget, setter, value in ((self.slider, self.slider.setValue, int(at.timestamp())),
                                      (self.picker, self.picker.setDateTime, _qt(at))):
            widget.blockSignals(True)
            setter(value)
            widget.blockSignals(False)

    def banner_text(self) -> str:
        return self.banner.text() if self.isVisible() else ""

    def _slider_moment(self) -> None:
        self._settle.stop()
        at = datetime.fromtimestamp(self.slider.value(), timezone.utc)
        # The slider is whole seconds: the moment it names ends with that second.
        if self._shown is None or int(self._shown.timestamp()) != self.slider.value():
            self.moment_wanted.emit(at.replace(microsecond=999_999))

    def _picker_moment(self) -> None:
        at = datetime.fromtimestamp(self.picker.dateTime().toSecsSinceEpoch(), timezone.utc)
        if self._shown is None or int(self._shown.timestamp()) != int(at.timestamp()):
            self.moment_wanted.emit(at.replace(microsecond=999_999))
