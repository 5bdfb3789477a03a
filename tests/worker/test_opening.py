"""open_poller: the one way the GUI worker, `watch` and `snapshot` open journal + exchange + Poller."""

from __future__ import annotations

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.storage.instance_lock import InstanceLock
from kraken_monitor.worker.opening import JournalRequired, create_exchange, open_journal, open_poller


class Tracked:
    """A real journal that remembers whether it was closed."""

    def __init__(self, journal):
        self._journal, self.closed = journal, False

    def __getattr__(self, name):
        return getattr(self._journal, name)

    def close(self):
        self.closed = True
        self._journal.close()


def _config(tmp_path, mode="demo"):
    return MonitorConfig(mode=mode, db_path=tmp_path / "j.sqlite3")


def test_real_journal_and_exchange_make_one_poller(tmp_path):
    opened = open_poller(_config(tmp_path))
    try:
        assert opened.journal_error is None and opened.journal_held_by is None
        assert opened.poller.journal is not None and opened.poller.exchange.capabilities().can_trade
    finally:
        opened.poller.flush()


def test_a_journal_that_cannot_open_is_carried_and_told_at_once(tmp_path):
    told = []

    def broken(config):
        raise OSError("disk gone")

    opened = open_poller(_config(tmp_path), journal_factory=broken, journal_failed=told.append)
    assert opened.poller.journal is None and str(opened.journal_error) == "disk gone"
    assert [str(e) for e in told] == ["disk gone"]
    opened.poller.flush()


def test_a_required_journal_stops_before_any_exchange_is_made(tmp_path):
    made = []

    def broken(config):
        raise OSError("disk gone")

    with pytest.raises(JournalRequired, match="disk gone"):
        open_poller(_config(tmp_path), journal_factory=broken, journal_required=True,
                    exchange_factory=lambda c, p: made.append(c))
    assert made == []


def test_an_exchange_that_fails_closes_the_journal_it_was_given(tmp_path):
    journals = []

    def tracked(config):
        journals.append(Tracked(open_journal(config)))
        return journals[-1]

    def no_exchange(config, paper_state):
        raise RuntimeError("no route")

    with pytest.raises(RuntimeError, match="no route"):
        open_poller(_config(tmp_path), journal_factory=tracked, exchange_factory=no_exchange)
    assert journals[0].closed


def test_snapshot_yields_the_journal_to_a_running_app(tmp_path):
    config = _config(tmp_path)
    journals = []

    def tracked(cfg):
        journals.append(Tracked(open_journal(cfg)))
        return journals[-1]

    lock = InstanceLock(config.journal_path()).acquire()  # this process plays the running app
    try:
        opened = open_poller(config, journal_factory=tracked, exchange_factory=create_exchange,
                             yield_to_running_app=True, save_paper=False)
    finally:
        lock.release()
    assert opened.journal_held_by is not None and opened.poller.journal is None
    assert journals[0].closed and opened.poller.save_paper is False
    opened.poller.flush()
