"""Regenerates the app's binary assets from the sources in this folder, so every asset is reproducible.

Run from a checkout with the project's venv (needs PySide6 for the SVG rendering)::

    .venv/bin/python resources/make_assets.py

Sources (edited by hand, kept here): ``kraken-monitor.svg``, ``light.qss``, ``dark.qss``.
Outputs:

- ``kraken_monitor/resources/``: what the app loads through ``importlib.resources``: the SVG and QSS
  copied verbatim, ``kraken-monitor-<N>.png`` for N in SIZES, and ``alert.wav``.
- ``resources/``: ``kraken-monitor.ico`` (Windows) and ``kraken-monitor.icns`` (macOS), only used by
  the PyInstaller spec in ``packaging/``.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import shutil
import struct
import sys
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = HERE.parent / "kraken_monitor" / "resources"
SVG_NAME = "kraken-monitor.svg"
COPIED = (SVG_NAME, "light.qss", "dark.qss")
SIZES = (16, 32, 48, 64, 128, 256)

SAMPLE_RATE = 22050
# Two alternating tones (a falling minor third reads as "alarm", not "notification"), 4 beeps of 150 ms.
TONES_HZ = (988.0, 784.0)
BEEP_S = 0.15
BEEPS = 4
AMPLITUDE = 0.55  # of full scale: loud, with headroom so no sample clips
RAMP_S = 0.006  # fade in/out per beep; a hard edge would click

# ICNS PNG entry types by pixel size (Apple's "icp4".."ic08" codes accept PNG payloads).
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08"}


def alert_wav_bytes() -> bytes:
    """A short two-tone alarm: 16-bit mono PCM, deterministic (same bytes on every run)."""
    per_beep = int(SAMPLE_RATE * BEEP_S)
    ramp = int(SAMPLE_RATE * RAMP_S)
    frames = bytearray()
    for beep in range(BEEPS):
        freq = TONES_HZ[beep % len(TONES_HZ)]
        for i in range(per_beep):
            envelope = min(1.0, i / ramp, (per_beep - 1 - i) / ramp)
            value = AMPLITUDE * envelope * math.sin(2 * math.pi * freq * i / SAMPLE_RATE)
            frames += struct.pack("<h", round(value * 32767))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes(frames))
    return buf.getvalue()


def render_pngs(svg: bytes, sizes: tuple[int, ...] = SIZES) -> dict[int, bytes]:
    """Renders the SVG at each pixel size with Qt's SVG renderer (antialiased, transparent corners)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (keeps Qt alive)
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("the icon SVG does not parse")
    out: dict[int, bytes] = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buf, "PNG")
        buf.close()
        out[size] = bytes(data.data())
    return out


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG-compressed images (supported since Vista); 256 is stored as 0."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
        blobs += blob
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding the PNG sizes Apple defines codes for."""
    body = b""
    for size, code in ICNS_TYPES.items():
        if size in pngs:
            body += code + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def build(package_dir: Path = PACKAGE_DIR, platform_dir: Path = HERE, source_dir: Path = HERE) -> list[Path]:
    """Writes every output; returns the paths written."""
    package_dir.mkdir(parents=True, exist_ok=True)
    platform_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in COPIED:
        if (source_dir / name).resolve() != (package_dir / name).resolve():
            shutil.copyfile(source_dir / name, package_dir / name)
        written.append(package_dir / name)
    pngs = render_pngs((source_dir / SVG_NAME).read_bytes())
    for size, blob in pngs.items():
        path = package_dir / f"kraken-monitor-{size}.png"
        path.write_bytes(blob)
        written.append(path)
    outputs = {
        package_dir / "alert.wav": alert_wav_bytes(),
        platform_dir / "kraken-monitor.ico": ico_bytes(pngs),
        platform_dir / "kraken-monitor.icns": icns_bytes(pngs),
    }
    for path, blob in outputs.items():
        path.write_bytes(blob)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", type=Path, default=PACKAGE_DIR, help="where the app's assets go")
    parser.add_argument("--platform-dir", type=Path, default=HERE, help="where .ico/.icns go")
    args = parser.parse_args(argv)
    for path in build(args.package_dir, args.platform_dir):
        print(f"{path}  ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
