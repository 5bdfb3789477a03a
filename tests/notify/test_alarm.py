"""The alarm plays the packaged WAV (SDL's null sink in tests), at its volume, looping for a LIQUIDATION until acknowledged."""

import logging
import wave
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QApplication

from kraken_monitor.domain.models import Risk
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.resources import alert_sound_path
from kraken_monitor.ui.sound import Alarm
from tests.notify.alerts import T0, level_alert


@pytest.fixture
def beeps(monkeypatch):
    calls = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: calls.append(1)))
    return calls


def test_the_wav_is_decoded_played_and_stopped(qtbot, beeps):
    alarm = Alarm(volume=50)
    assert alarm.play() == "wav"
    with wave.open(str(alert_sound_path())) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert alarm.loaded_seconds() == pytest.approx(seconds, abs=0.01)  # the file itself, not a beep
    assert alarm.is_playing()
    assert alarm._sound.get_volume() == pytest.approx(0.5, abs=0.01)
    alarm.stop()
    qtbot.waitUntil(lambda: not alarm.is_playing(), timeout=1000)
    assert beeps == []


def test_a_liquidation_alarm_repeats_until_it_is_acknowledged(qtbot, beeps):
    messages = Messages(sound_enabled=True)
    alert = level_alert(Risk.LIQUIDATION, alert_id=5)
    try:
        messages.show_alert(alert)
        assert messages.alarm.is_repeating()
        qtbot.wait(int(messages.alarm.loaded_seconds() * 1000) + 400)  # longer than one play of the WAV
        assert messages.alarm.is_playing()
        messages.update_alerts([replace(alert, acknowledged_at=T0)])  # acknowledged anywhere (log, tray)
        qtbot.waitUntil(lambda: not messages.alarm.is_playing(), timeout=1000)
    finally:
        messages.close_all_popups()


def test_a_critical_alarm_plays_once_and_repeat_can_be_turned_off(qtbot, beeps):
    messages = Messages(sound_enabled=True)
    try:
        messages.show_alert(level_alert(Risk.CRITICAL, alert_id=1, key="pos:A"))
        assert messages.alarm.is_playing() and not messages.alarm.is_repeating()
        messages.set_alarm(volume=30, repeat_liquidation=False)
        messages.show_alert(level_alert(Risk.LIQUIDATION, alert_id=2, key="pos:B"))
        assert not messages.alarm.is_repeating()
        assert messages.alarm._sound.get_volume() == pytest.approx(0.3, abs=0.01)
    finally:
        messages.close_all_popups()


def test_without_an_audio_device_the_alarm_beeps_and_says_why(monkeypatch, beeps, caplog):
    import pygame.mixer

    def no_device():
        raise pygame.error("ALSA: Couldn't open audio device: No such file or directory")

    monkeypatch.setattr(pygame.mixer, "get_init", lambda: None)  # the edge of the machine: no sound card
    monkeypatch.setattr(pygame.mixer, "init", no_device)
    alarm = Alarm()
    with caplog.at_level(logging.WARNING):
        assert alarm.play() == "beep" and alarm.play(repeat=True) == "beep"
    assert beeps == [1, 1]
    assert "Couldn't open audio device" in alarm.fallback_reason
    assert caplog.text.count("using the system beep") == 1  # said once, not at every alert


def test_linux_without_a_sound_server_or_card_is_known_before_sdl_probes(tmp_path):
    from kraken_monitor.ui.sound import no_linux_audio

    cards = tmp_path / "cards"
    cards.write_text("--- no soundcards ---\n")
    assert no_linux_audio({}, cards, "linux") == "no sound server and no ALSA sound card"
    assert "missing" in no_linux_audio({}, tmp_path / "absent", "linux")
    cards.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n")
    assert no_linux_audio({}, cards, "linux") == ""
    (tmp_path / "run" / "pulse").mkdir(parents=True)
    (tmp_path / "run" / "pulse" / "native").touch()
    assert no_linux_audio({"XDG_RUNTIME_DIR": str(tmp_path / "run")}, tmp_path / "absent", "linux") == ""
    assert no_linux_audio({"SDL_AUDIODRIVER": "dummy"}, tmp_path / "absent", "linux") == ""
    assert no_linux_audio({}, tmp_path / "absent", "win32") == ""


def test_messages_use_freedesktop_notifications_when_there_is_no_tray(qtbot, beeps):
    from PySide6.QtWidgets import QSystemTrayIcon

    from kraken_monitor.notify.desktop import DesktopNotifications
    from kraken_monitor.testing.fake_notifications import FakeNotificationServer, PrivateBus, dbus_daemon

    if dbus_daemon() is None:
        pytest.skip("dbus-daemon is not installed (apt package dbus; .ci/run installs it)")
    assert not QSystemTrayIcon.isSystemTrayAvailable()  # the offscreen platform has no tray
    with PrivateBus() as bus, FakeNotificationServer(bus.address) as server:
        messages = Messages(sound_enabled=False)
        messages.desktop = DesktopNotifications(bus_address=bus.address)
        try:
            messages.show_alert(level_alert(Risk.LIQUIDATION, alert_id=4))
            [(signature, body)] = server.wait_for(1)
        finally:
            messages.close_all_popups()
    assert signature == "susssasa{sv}i"
    assert body[3] == "LIQUIDATION: Cross-margin account" and body[4].startswith("Act on: PAPER-00001")


def test_a_process_with_the_alarm_loaded_still_ends_on_sigterm(tmp_path):
    """SDL installs SIGINT/SIGTERM handlers when its audio starts unless told not to: the process then ignored
    `kill` (seen: a test run outliving its `timeout`). The alarm tells it not to."""
    import os
    import signal
    import subprocess
    import sys

    script = (
        "import sys, time\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from kraken_monitor.ui.sound import Alarm\n"
        "alarm = Alarm()\n"
        "print(alarm.play(), flush=True)\n"
        "time.sleep(60)\n"
    )
    env = dict(os.environ, SDL_AUDIODRIVER="dummy", QT_QPA_PLATFORM="offscreen")
    env.pop("SDL_NO_SIGNAL_HANDLERS", None)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout.readline().strip() == "wav"  # SDL's audio really started
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_mixer_closes_after_the_sound_and_reopens_for_the_next_alert(qtbot, beeps, monkeypatch):
    """An open mixer keeps SDL's audio thread mixing silence all day (idle cost, issue 17.7): closed once the
    sound ended, opened again by the next play; a repeating alarm keeps it open."""
    import pygame.mixer

    from kraken_monitor.ui import sound

    monkeypatch.setattr(sound, "RELEASE_AFTER_S", 0.1)
    alarm = Alarm()
    assert alarm.play() == "wav" and alarm.is_open() and pygame.mixer.get_init()
    qtbot.waitUntil(lambda: not alarm.is_open(), timeout=int(alarm._release.interval()) + 3000)
    assert not pygame.mixer.get_init()  # SDL's audio device is closed: no thread mixing silence
    assert alarm.play(repeat=True) == "wav-repeat" and alarm.is_open()  # the next alert opens it again
    alarm._release_if_idle()  # a repeating (liquidation) alarm is never cut by the release
    assert alarm.is_open() and alarm.is_repeating()
    alarm.stop()
    qtbot.waitUntil(lambda: not alarm.is_open(), timeout=3000)
    assert beeps == []


def test_a_single_alert_during_a_liquidation_loop_keeps_the_loop(qtbot, beeps):
    alarm = Alarm()
    assert alarm.play(repeat=True) == "wav-repeat"
    assert alarm.play() == "wav-repeat"  # a critical alert meanwhile: the loop goes on, still tracked
    assert alarm.is_repeating()
    alarm._release_if_idle()
    assert alarm.is_open() and alarm.is_playing()
    alarm.stop()
    qtbot.waitUntil(lambda: not alarm.is_playing(), timeout=1000)
