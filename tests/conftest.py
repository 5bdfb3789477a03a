"""Test-session isolation: offscreen Qt, and no test ever touches the user's real settings, data or keyring."""

import gc
import os
import tempfile

import pytest

# Set before anything imports Qt, keyring or platformdirs.
_SANDBOX = tempfile.mkdtemp(prefix="kraken-monitor-tests-")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The alarm's mixer (pygame-ce / SDL) plays into SDL's null sink: a real decode and play, no device needed.
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_SANDBOX, "config")  # QSettings on Linux
os.environ["XDG_DATA_HOME"] = os.path.join(_SANDBOX, "data")
os.environ["KRAKEN_MONITOR_HOME"] = os.path.join(_SANDBOX, "home")
os.environ.pop("KRAKEN_API_KEY", None)
os.environ.pop("KRAKEN_API_SECRET", None)
os.environ.pop("KRAKEN_FUTURES_API_KEY", None)
os.environ.pop("KRAKEN_FUTURES_API_SECRET", None)

# As in the app (kraken_monitor/worker/main_thread_gc.py): cycles are collected only in the main thread,
# between tests. Left automatic, a window an earlier test dropped was destroyed inside whatever thread
# allocated next (a test server's, a poll thread's), and Qt's "Timers cannot be started from another
# thread" warnings failed an unrelated test.
gc.disable()
_FULL_COLLECTION_EVERY = 25
_tests_since_full = [0]


@pytest.fixture
def memory_keyring():
    """The process-local test keyring (kraken_monitor.testing.memory_keyring), empty, for one test."""
    import keyring

    from kraken_monitor.testing.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    MemoryKeyring.clear()
    keyring.set_keyring(MemoryKeyring())
    yield
    MemoryKeyring.clear()
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def _collect_garbage_in_the_main_thread():
    yield
    _tests_since_full[0] += 1
    if _tests_since_full[0] >= _FULL_COLLECTION_EVERY:
        _tests_since_full[0] = 0
        gc.collect()
    else:
        gc.collect(0)  # with automatic collection off, everything this test made is still in generation 0


@pytest.fixture(autouse=True)
def _no_modal_message_boxes(monkeypatch):
    """A modal box waits for a click nobody makes in a test run: it hung whole runs once. Fail the test instead.
    Tests that want the box's answer patch `Messages` (ui/messages.py) or QMessageBox themselves."""
    from PySide6.QtWidgets import QMessageBox

    def refusing(name):
        def box(*args, **_kwargs):
            shown = " | ".join(str(a) for a in args[1:3])
            raise AssertionError(f"a modal QMessageBox.{name} opened in a test, where it would wait forever: {shown}")

        return staticmethod(box)

    for name in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, refusing(name))


@pytest.fixture(autouse=True)
def _keep_core_limit_of_the_test_process(monkeypatch):
    """A live exchange built inside pytest would lower this process's hard RLIMIT_CORE to 0 for good, and every
    later child inherits it: the core-dump test could then never raise `ulimit -c` for its control. The guard
    itself runs for real in every live subprocess (tests/reliability/test_core_dumps.py)."""
    from kraken_monitor.exchange import process_guard

    monkeypatch.setattr(process_guard, "disable_core_dumps", lambda: ())
