"""Issue 4 figures: price arriving in the real PollWorker -> snapshot_ready received in the GUI thread,
and the journal write per cycle, live mode against the local Kraken-protocol server (200 positions)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

from PySide6.QtCore import QObject, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kraken_monitor.config import MonitorConfig  # noqa: E402
from kraken_monitor.testing.exchanges import unpaced_kraken  # noqa: E402
from kraken_monitor.testing.kraken_server import KrakenTestServer  # noqa: E402
from kraken_monitor.worker.poll_worker import PollWorker  # noqa: E402
from kraken_monitor.worker.runner import MonitorThread  # noqa: E402

MIN_STAMPS = 23  # 3 start-up cycles skipped + 20 measured
MAX_SECONDS = 60.0
PAIRS = {"BTC/USD": Decimal("60000"), "ETH/USD": Decimal("3000"), "SOL/USD": Decimal("150"), "XRP/USD": Decimal("2")}


class StampedWorker(PollWorker):
    """The real worker; stamps the moment fresh prices are in hand, before compute/persist/emit."""

    def __init__(self, config: MonitorConfig, **factories):
        super().__init__(config, **factories)
        self.price_stamps: list[float] = []
        self.write_s: list[float] = []

    def _price_cycle(self) -> None:
        super()._price_cycle()
        self.price_stamps.append(time.perf_counter())

    def _publish(self) -> None:
        super()._publish()
        if self.poller is not None and self.poller.last_write_s:
            self.write_s.append(self.poller.last_write_s)


class Receiver(QObject):
    def __init__(self):
        super().__init__()
        self.received: list[float] = []

    @Slot(object)
    def on_snapshot(self, _snapshot) -> None:
        self.received.append(time.perf_counter())


def price_to_signal(seconds: float = 6.0, positions: int = 200) -> dict:
    from kraken_monitor.exchange.credentials import Credentials

    app = QApplication.instance() or QApplication([])
    with KrakenTestServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.set_prices(PAIRS)
        server.set_balance(Decimal("1000000"))
        pairs = list(PAIRS)
        for i in range(positions):
            pair = pairs[i % len(pairs)]
            side = "buy" if i % 3 else "sell"
            server.add_position(pair, side, Decimal("0.01") * (1 + i % 7), PAIRS[pair], leverage=2 + i % 4)
        config = MonitorConfig(mode="live", api_url=server.url, db_path=Path(tmp) / "bench.sqlite3",
                               price_interval_s=0.1, account_interval_s=0.5, kraken_tier="local")
        credentials = Credentials(server.api_key, server.api_secret)
        # No client-side pacing: the benchmark polls every 0.1 s against a local server.
        monitor = MonitorThread(config, StampedWorker, exchange_factory=unpaced_kraken(credentials=credentials))
        receiver = Receiver()
        monitor.worker.snapshot_ready.connect(receiver.on_snapshot)
        monitor.start()
        # Run for `seconds`, longer if a loaded machine has not produced enough cycles to measure
        # (the first 3 are start-up), but never past MAX_SECONDS: a figure from too few samples is NaN.
        start = time.perf_counter()
        worker = monitor.worker
        while True:
            elapsed = time.perf_counter() - start
            enough = len(worker.price_stamps) >= MIN_STAMPS and len(receiver.received) >= MIN_STAMPS
            if elapsed >= MAX_SECONDS or (elapsed >= seconds and enough):
                break
            app.processEvents()
            time.sleep(0.0005)
        monitor.stop()
        worker = monitor.worker
    latencies = []
    for stamp in worker.price_stamps[3:]:  # skip start-up cycles
        after = [r for r in receiver.received if r >= stamp]
        if after:
            latencies.append((after[0] - stamp) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    return {
        "price_to_signal_p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "price_to_signal_p99_ms": p99,
        "worker_cycle_write_ms": statistics.median(worker.write_s) * 1000 if worker.write_s else float("nan"),
        "price_to_signal_samples": len(latencies),
    }
