"""Qt benchmark figures (offscreen): tick->screen, table, chart, alert->popup, RSS, cross-thread emits."""

from __future__ import annotations

import gc
import os
import resource
import statistics
import threading
import time
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import data  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QObject, Qt, QThread, QTimer, Signal, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kraken_monitor.domain.alerts import AlertEngine, AlertThresholds  # noqa: E402
from kraken_monitor.ui import chart as chart_mod  # noqa: E402
from kraken_monitor.ui import main_window as mw  # noqa: E402
from kraken_monitor.ui import messages as msg_mod  # noqa: E402

PAINTS: dict[str, float] = {}  # view name -> perf_counter() at the end of its latest paint


class StampedView(mw.PositionsView):
    def paintEvent(self, event):  # noqa: N802 - Qt override: stamp after the viewport is painted
        super().paintEvent(event)
        PAINTS["table"] = time.perf_counter()


class StampedChart(mw.ChartWidget):
    def paintEvent(self, event):  # noqa: N802
        super().paintEvent(event)
        PAINTS["chart"] = time.perf_counter()


class StampedPopup(msg_mod.AlertPopup):
    def paintEvent(self, event):  # noqa: N802
        super().paintEvent(event)
        PAINTS["popup"] = time.perf_counter()


def _app() -> QApplication:
    return QApplication.instance() or QApplication(["bench"])


def _window(tmp_settings: bool = True) -> mw.MainWindow:
    # The benchmark's own view classes stamp their paint events; the window wires them as usual.
    _app()
    mw.PositionsView, mw.ChartWidget = StampedView, StampedChart
    from PySide6.QtCore import QSettings

    settings = QSettings(os.path.join(os.environ.get("TMPDIR", "/tmp"), "kraken-bench.ini"), QSettings.Format.IniFormat)
    window = mw.MainWindow("demo", settings=settings)
    window.resize(1400, 860)
    window.show()
    _app().processEvents()
    return window


def _spin_until(pred, timeout: float = 5.0) -> bool:
    """Run the GUI thread's event loop until `pred()` holds, as `exec()` would: asleep between events.

    A busy `processEvents()` loop held the GIL almost all the time, so every worker and stream thread
    waited up to the interpreter's switch interval (5 ms) for it at each step: the measured path then
    carried the benchmark's own spinning. A 1 ms precise timer bounds each wait so `pred` is looked at
    after every batch of events (paints included) and at least once a millisecond.
    """
    app = _app()
    end = time.perf_counter() + timeout
    wake = QTimer()
    wake.setTimerType(Qt.TimerType.PreciseTimer)
    wake.start(1)
    try:
        while time.perf_counter() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            if pred():
                return True
        return False
    finally:
        wake.stop()


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


# -- tick -> screen -----------------------------------------------------------------------------


class TickWorker(QObject):
    """In its own thread: a price arrives (stamp), engine + alerts run, the snapshot is emitted."""

    snapshot_ready = Signal(object)
    stamped = Signal(float)

    def __init__(self, n_positions: int, n_pairs: int):
        super().__init__(None)
        self.rules = data.rules(n_pairs)
        self.state = data.state(n_positions, n_pairs)
        self.prices = data.prices(n_pairs)
        self.engine = AlertEngine(AlertThresholds())
        self.i = 0

    @Slot()
    def tick(self) -> None:
        t0 = time.perf_counter()
        self.i += 1
        pair = next(iter(self.prices))
        self.prices = data.bump(self.prices, pair, "0.01")
        now = data.NOW + data.timedelta(seconds=self.i)
        snap = data.snapshot(self.state, self.prices, self.rules, now, self.engine)
        self.stamped.emit(t0)
        self.snapshot_ready.emit(snap)


def tick_to_screen(samples: int = 120, n_positions: int = 200, n_pairs: int = 20) -> dict:
    app = _app()
    window = _window()
    worker = TickWorker(n_positions, n_pairs)
    thread = QThread()
    worker.moveToThread(thread)
    worker.snapshot_ready.connect(window.show_snapshot)
    starts: list[float] = []
    worker.stamped.connect(starts.append)

    class Driver(QObject):
        go = Signal()

    driver = Driver()
    driver.go.connect(worker.tick)
    thread.start()
    try:
        driver.go.emit()  # first snapshot: rows inserted, columns fitted (not measured)
        _spin_until(lambda: window.positions_model.rowCount() == n_positions)
        window.positions_view.select_position(worker.state.positions[0].id)
        _spin_until(lambda: False, 0.2)
        gc.freeze()  # as ui/app.py does once the window is up (start-up objects leave the GC's walk)
        lat: list[float] = []
        for _ in range(samples):
            PAINTS.clear()
            starts.clear()
            driver.go.emit()
            ok = _spin_until(lambda: starts and "table" in PAINTS and "chart" in PAINTS
                             and min(PAINTS["table"], PAINTS["chart"]) > starts[0], 2.0)
            if ok:
                lat.append((max(PAINTS["table"], PAINTS["chart"]) - starts[0]) * 1000)
            # Ticks arrive every poll; leave the loop idle a moment as the real app would be.
            time.sleep(0.005)
            app.processEvents()
    finally:
        thread.quit()
        thread.wait()
    window.close()
    return {"tick_to_screen_p50_ms": statistics.median(lat), "tick_to_screen_p99_ms": _pct(lat, 99)}


# -- table --------------------------------------------------------------------------------------


def table_update(repeats: int = 30, n_positions: int = 1000, n_pairs: int = 100) -> dict:
    window = _window()
    rl, st, px = data.rules(n_pairs), data.state(n_positions, n_pairs), data.prices(n_pairs)
    engine = AlertEngine(AlertThresholds())
    snaps = []
    for i in range(repeats + 1):
        px = data.bump(px, "P000/USD", "0.01")
        snaps.append(data.snapshot(st, px, rl, data.NOW + data.timedelta(seconds=i), engine))
    model, view = window.positions_model, window.positions_view
    model.set_snapshot(snaps[0])
    _spin_until(lambda: False, 0.3)
    times = []
    for snap in snaps[1:]:
        t = time.perf_counter()
        model.set_snapshot(snap)
        view.viewport().repaint()
        times.append((time.perf_counter() - t) * 1000)
    naive = _naive_table_update(model, view, snaps)
    window.close()
    ours = statistics.median(times)
    return {"table_update_1000_ms": ours, "table_update_naive_ms": naive, "table_update_ratio": naive / ours}


def _naive_table_update(model, view, snaps) -> float:
    """Baseline: a QStandardItemModel in a plain QTableView of the same size, every cell's text re-set.

    The text is our model's, read before the clock starts (formatting is not charged to the baseline).
    """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QTableView

    texts = []
    for snap in snaps:
        model.set_snapshot(snap)
        texts.append([[model.index(r, c).data(Qt.ItemDataRole.DisplayRole) or "" for c in range(model.columnCount())]
                      for r in range(model.rowCount())])
    plain = QStandardItemModel(len(texts[0]), len(texts[0][0]))
    for r, row in enumerate(texts[0]):
        for c, text in enumerate(row):
            plain.setItem(r, c, QStandardItem(str(text)))
    table = QTableView()
    table.setModel(plain)
    table.resize(view.size())
    table.show()
    _spin_until(lambda: False, 0.3)
    times = []
    for rows in texts[1:]:
        t = time.perf_counter()
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                plain.item(r, c).setText(str(text))
        table.viewport().repaint()
        times.append((time.perf_counter() - t) * 1000)
    table.close()
    return statistics.median(times)


# -- chart --------------------------------------------------------------------------------------


def chart_update(repeats: int = 20, points: int = 1_000_000) -> dict:
    window = _window()
    chart = window.chart
    ts = 1.7e9 + np.arange(points, dtype=np.float64)
    values = 60000 + np.cumsum(np.random.default_rng(1).normal(0, 5, points))
    chart.set_history({"BTC/USD": (ts, values)})
    chart.selected_pair = "BTC/USD"
    chart._redraw()
    _spin_until(lambda: False, 0.3)
    buf = chart.buffer("BTC/USD")
    times = []
    for i in range(repeats):
        buf.append(float(ts[-1]) + 1 + i, float(values[-1]) + i)
        t = time.perf_counter()
        x, y = buf.view()
        chart.price_curve.setData(x, y)
        chart.viewport().repaint()
        times.append((time.perf_counter() - t) * 1000)
    window.close()
    return {"chart_update_1m_ms": statistics.median(times), "chart_points": len(buf)}


# -- alert -> popup -----------------------------------------------------------------------------


class AlertWorker(QObject):
    snapshot_ready = Signal(object)
    alerts_fired = Signal(object)
    stamped = Signal(float)

    def __init__(self):
        super().__init__(None)
        self.rules = data.rules(5)
        self.state = data.state(20, 5)
        self.prices = data.prices(5)

    @Slot()
    def crash(self) -> None:
        """A fresh engine sees the account at the liquidation level: the crossing fires immediately."""
        t0 = time.perf_counter()
        low = {pair: p / 10 if i % 3 else p * 10 for i, (pair, p) in enumerate(self.prices.items())}
        snap = data.snapshot(self.state, low, self.rules, data.NOW, AlertEngine(AlertThresholds()))
        self.stamped.emit(t0)
        self.snapshot_ready.emit(snap)
        # As PollWorker: the alerts go out with their journal ids after the snapshot.
        self.alerts_fired.emit(tuple(replace(a, id=i + 1) for i, a in enumerate(snap.alerts)))


def alert_to_popup(repeats: int = 10) -> dict:
    from kraken_monitor.config import MonitorConfig
    from kraken_monitor.ui import actions

    msg_mod.AlertPopup = StampedPopup
    window = _window()
    controller = actions.install(window, MonitorConfig(sound_enabled=True))
    messages = controller.messages
    worker = AlertWorker()
    thread = QThread()
    worker.moveToThread(thread)
    worker.snapshot_ready.connect(window.show_snapshot)
    worker.alerts_fired.connect(controller.on_alerts_fired)
    starts: list[float] = []
    worker.stamped.connect(starts.append)

    class Driver(QObject):
        go = Signal()

    driver = Driver()
    driver.go.connect(worker.crash)
    thread.start()
    times = []
    try:
        for _ in range(repeats + 1):
            messages.close_all_popups()
            _spin_until(lambda: not messages.popups(), 1.0)
            PAINTS.clear()
            starts.clear()
            driver.go.emit()
            if _spin_until(lambda: starts and "popup" in PAINTS, 3.0):
                times.append((PAINTS["popup"] - starts[0]) * 1000)
    finally:
        thread.quit()
        thread.wait()
    messages.close_all_popups()
    window.close()
    return {"alert_to_popup_ms": statistics.median(times[1:] or times or [float("nan")])}


# -- memory -------------------------------------------------------------------------------------


def peak_rss(points: int = 1_000_000, n_positions: int = 1000, n_pairs: int = 100) -> dict:
    window = _window()
    rl, st, px = data.rules(n_pairs), data.state(n_positions, n_pairs), data.prices(n_pairs)
    snap = data.snapshot(st, px, rl)
    window.show_snapshot(snap)
    # History ends one poll before the first snapshot, as the journal's (PollWorker loads the last
    # `history_hours` before now). It used to end in 2023 with the ticks in 2026: pyqtgraph's auto
    # downsample assumes even x spacing, so a 2-year gap can make it draw all 1M points (+~48 MB).
    ts = data.NOW.timestamp() - points + np.arange(points, dtype=np.float64)
    values = 100 + np.cumsum(np.random.default_rng(1).normal(0, 0.01, points))
    selected = window.selected_position()
    pair = selected.position.pair if selected else "P000/USD"
    window.chart.set_history({pair: (ts, values), chart_mod.MARGIN_KEY: (ts[::60].copy(), values[::60] + 100)})
    del ts, values  # the app drops history_ready's arrays once the slot returns; holding them adds 16 MB
    for i in range(5):
        window.show_snapshot(data.snapshot(st, data.bump(px, pair, str(i + 1)), rl, data.NOW + data.timedelta(seconds=i + 1)))
        _spin_until(lambda: False, 0.1)
    window.chart.viewport().repaint()
    window.positions_view.viewport().repaint()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    # Steady RSS and the points pyqtgraph actually draws tell a transient peak from a chart drawing
    # every buffered point (a downsampling regression shows as drawn ~= buffered).
    try:
        with open("/proc/self/statm") as f:
            steady: float | None = round(int(f.read().split()[1]) * resource.getpagesize() / 2**20, 1)
    except OSError:  # not Linux
        steady = None
    drawn = window.chart.price_curve.curve.xData
    window.close()
    return {"peak_rss_mb": peak, "rss_steady_mb": steady, "rss_chart_points": len(window.chart.buffer(pair)),
            "rss_chart_drawn_points": 0 if drawn is None else len(drawn)}


# -- cross-thread emits -------------------------------------------------------------------------


class Emitter(QObject):
    value_ready = Signal(object)
    done = Signal()

    def __init__(self, payloads, count):
        super().__init__(None)
        self.payloads = payloads
        self.count = count

    @Slot()
    def run(self) -> None:
        n = len(self.payloads)
        for i in range(self.count):
            self.value_ready.emit(self.payloads[i % n])
            if i % 20_000 == 19_999:
                time.sleep(0.001)  # let the GUI thread drain; the queue still holds thousands
        self.done.emit()


def signal_emits(count: int = 1_000_000) -> dict:
    app = _app()
    rl, st, px = data.rules(5), data.state(10, 5), data.prices(5)
    payloads = [data.snapshot(st, data.bump(px, "P000/USD", str(i)), rl) for i in range(1, 9)]
    received = {"n": 0, "bad": 0, "done": False, "threads": set()}

    class Receiver(QObject):
        @Slot(object)
        def on_value(self, snap):
            received["n"] += 1
            if not snap.positions:
                received["bad"] += 1

        @Slot()
        def on_done(self):
            received["done"] = True
            received["threads"].add(threading.get_ident())

    receiver = Receiver()
    emitter = Emitter(payloads, count)
    thread = QThread()
    emitter.moveToThread(thread)
    emitter.value_ready.connect(receiver.on_value)
    emitter.done.connect(receiver.on_done)
    thread.started.connect(emitter.run)
    t = time.perf_counter()
    thread.start()
    end = t + 150
    while not received["done"] and time.perf_counter() < end:
        app.processEvents()
    thread.quit()
    thread.wait()
    ok = received["done"] and received["n"] == count and received["bad"] == 0
    return {"signal_emits_ok": bool(ok), "signal_emits_count": received["n"],
            "signal_emits_s": time.perf_counter() - t}
