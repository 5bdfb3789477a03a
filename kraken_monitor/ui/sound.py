"""The alarm: the packaged alert.wav through pygame-ce's mixer (SDL), with volume and repeat; the system beep without audio."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

DEFAULT_VOLUME = 80  # percent
# The open mixer keeps SDL's audio thread mixing silence (~0.5 % of a core, all day): it is closed this long
# after the last sound ended and opened again (tens of ms) by the next alert.
RELEASE_AFTER_S = 5.0


class Alarm(QObject):
    """Plays alert.wav once, or looped until `stop()` (liquidation: until acknowledged).

    PySide6-Essentials has no QtMultimedia, so the mixer is pygame-ce's SDL one, opened on the first
    play. When no audio device can be opened (a headless box, no sound server) every play is the
    system beep and the reason is logged once; `fallback_reason` says it.
    """

    def __init__(self, volume: int = DEFAULT_VOLUME, parent: QObject | None = None):
        super().__init__(parent)
        self.volume = _clamp(volume)
        self.fallback_reason = ""
        self._sound = None
        self._channel = None
        self._tried = False
        self._repeating = False
        self._release = QTimer(self)
        self._release.setSingleShot(True)
        self._release.timeout.connect(self._release_if_idle)

    def _load(self):
        """The loaded WAV, or None (and `fallback_reason`) when there is no mixer or no file."""
        if self._tried:
            return self._sound
        self._tried = True
        try:
            os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame prints a banner otherwise
            # SDL's audio start-up would take SIGINT/SIGTERM for its own event queue, which nobody reads:
            # the app (and a test run) then ignored `kill`, a logout and a CI timeout.
            os.environ["SDL_NO_SIGNAL_HANDLERS"] = "1"
            import pygame.mixer

            from kraken_monitor.ui.resources import alert_sound_path

            if not pygame.mixer.get_init():
                missing = no_linux_audio()
                if missing:
                    raise RuntimeError(missing)
                pygame.mixer.init()
            self._sound = pygame.mixer.Sound(str(alert_sound_path()))
            self._sound.set_volume(self.volume / 100)
        except Exception as exc:  # ImportError, pygame.error (no device), MissingResource
            self.fallback_reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
            log.warning("alarm sound unavailable, using the system beep (%s)", self.fallback_reason)
            self._sound = None
        return self._sound

    def play(self, repeat: bool = False) -> str:
        """'wav', 'wav-repeat' or 'beep': what was done."""
        sound = self._load()
        if sound is None:
            QApplication.beep()
            return "beep"
        if self.is_repeating():
            # Already looping (a liquidation until acknowledged): a second loop would only be louder, and a
            # single play on top would take over the channel and lose track of the loop.
            return "wav-repeat"
        self._channel = sound.play(loops=-1 if repeat else 0)
        self._repeating = repeat
        if not repeat:
            self._release.start(int((sound.get_length() + RELEASE_AFTER_S) * 1000))
        return "wav-repeat" if repeat else "wav"

    def is_playing(self) -> bool:
        return self._channel is not None and bool(self._channel.get_busy())

    def is_repeating(self) -> bool:
        return self._repeating and self.is_playing()

    def stop(self) -> None:
        if self._sound is not None:
            self._sound.stop()
            self._release.start(int(RELEASE_AFTER_S * 1000))
        self._repeating = False

    def is_open(self) -> bool:
        """The mixer (and SDL's audio thread) is open: between the first play and its release."""
        return self._sound is not None

    def _release_if_idle(self) -> None:
        """Close the mixer once nothing plays (a repeating alarm keeps it); the next play opens it again."""
        if self._sound is None or self.is_playing() or _mixer_busy():
            if self._sound is not None:
                self._release.start(int(RELEASE_AFTER_S * 1000))
            return
        try:
            import pygame.mixer

            self._sound = self._channel = None
            pygame.mixer.quit()
        except Exception as exc:  # noqa: BLE001 - a failed close only costs the idle thread
            log.warning("could not close the audio mixer: %s", exc)
        self._tried = False  # the next play opens it again (or says why it cannot)

    def set_volume(self, volume: int) -> None:
        self.volume = _clamp(volume)
        if self._sound is not None:
            self._sound.set_volume(self.volume / 100)

    def loaded_seconds(self) -> float:
        """Length of the loaded WAV (0 without one): the file really was decoded."""
        return float(self._sound.get_length()) if self._sound is not None else 0.0


def no_linux_audio(environ=os.environ, asound: Path = Path("/proc/asound/cards"),
                   platform: str = sys.platform) -> str:
    """Why Linux certainly has no audio output ('' when it may have one).

    Without a sound server socket and without an ALSA card, SDL's probe only prints libasound's
    errors on the terminal at every alert; asking first keeps the beep quiet and the reason logged.
    An explicit SDL_AUDIODRIVER (e.g. "dummy") is the user's choice and is always tried.
    """
    if not platform.startswith("linux") or environ.get("SDL_AUDIODRIVER") or environ.get("PULSE_SERVER"):
        return ""
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and any((Path(runtime) / name).exists() for name in ("pulse/native", "pipewire-0")):
        return ""
    try:
        cards = asound.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "no sound server and no ALSA sound card (/proc/asound/cards is missing)"
    if "no soundcards" in cards or not cards.strip():
        return "no sound server and no ALSA sound card"
    return ""


def _mixer_busy() -> bool:
    import pygame.mixer

    return bool(pygame.mixer.get_init() and pygame.mixer.get_busy())


def _clamp(volume: int) -> int:
    return max(0, min(100, int(volume)))
