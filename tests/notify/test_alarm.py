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
