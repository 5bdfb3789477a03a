"""Packaging files stay consistent: .desktop entry, PyInstaller spec, build script, shipped assets."""

from __future__ import annotations

import ast
import configparser
import fnmatch
import importlib.util
import os
import stat
import struct
import subprocess
import sys
from importlib import resources as importlib_resources
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
SOURCES = ROOT / "resources"
EXPECTED_ASSETS = {
    "kraken-monitor.svg",
    "light.qss",
    "dark.qss",
    "alert.wav",
    *(f"kraken-monitor-{s}.png" for s in (16, 32, 48, 64, 128, 256)),
}


def load_make_assets():
    spec = importlib.util.spec_from_file_location("make_assets", SOURCES / "make_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_desktop_entry_has_the_required_keys():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in the Desktop Entry spec
    parser.read(PACKAGING / "kraken-monitor.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"]
    assert entry["Exec"].split()[0] in pyproject()["project"]["scripts"]
    assert entry["Icon"] == "kraken-monitor"  # matches the hicolor PNG names in packaging/README.md
    assert entry["Terminal"] == "false"
    for key in ("Categories", "Keywords"):
        assert entry[key].endswith(";")  # list values must end with ";"
    assert "Finance" in entry["Categories"].split(";")


def test_spec_parses_and_names_the_console_entry_point():
    spec_text = (PACKAGING / "kraken-monitor.spec").read_text(encoding="utf-8")
    tree = ast.parse(spec_text)
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert {"kraken-monitor", "ccxt.kraken", "keyring.backends", "entry.py"} <= strings
    assert "PySide6.QtQml" in strings and "ccxt.async_support" in strings  # lean: excludes present
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert {"Analysis", "PYZ", "EXE", "COLLECT"} <= calls
    # The entry script runs the same function as the console script.
    target = pyproject()["project"]["scripts"]["kraken-monitor"]
    module, func = target.split(":")
    entry = ast.parse((PACKAGING / "entry.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(entry) if isinstance(n, ast.ImportFrom)]
    assert any(n.module == module and func in [a.name for a in n.names] for n in imports)


def test_spec_references_existing_files():
    for name in ("kraken-monitor.ico", "kraken-monitor.icns"):
        assert (SOURCES / name).is_file()
    assert (PACKAGING / "entry.py").is_file()


def test_build_script_is_executable_valid_bash_with_its_own_venv():
    script = PACKAGING / "build.sh"
    assert script.stat().st_mode & stat.S_IXUSR
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    assert "-m venv" in text and "'.[package]'" in text and "kraken-monitor.spec" in text
    assert "pyinstaller" in pyproject()["project"]["optional-dependencies"]["package"][0].lower()


def test_assets_load_through_importlib_resources(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # never from the working directory
    folder = importlib_resources.files("kraken_monitor") / "resources"
    names = {item.name for item in folder.iterdir() if item.is_file()}
    assert names >= EXPECTED_ASSETS
    assert (folder / "kraken-monitor-16.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_package_data_globs_ship_every_asset():
    """What setuptools puts in the wheel: every asset matches a package-data pattern of kraken_monitor."""
    patterns = pyproject()["tool"]["setuptools"]["package-data"]["kraken_monitor"]
    for name in EXPECTED_ASSETS:
        assert any(fnmatch.fnmatch(f"resources/{name}", p) for p in patterns), name
    # Data-only folder: a .py file here would need to be a package, and setuptools would warn.
    assert not list((ROOT / "kraken_monitor" / "resources").glob("*.py"))


def test_packaged_copies_match_their_sources():
    for name in ("kraken-monitor.svg", "light.qss", "dark.qss"):
        assert (ROOT / "kraken_monitor" / "resources" / name).read_bytes() == (SOURCES / name).read_bytes(), (
            f"run resources/make_assets.py after editing resources/{name}"
        )


def test_alert_sound_is_reproducible():
    make_assets = load_make_assets()
    shipped = (ROOT / "kraken_monitor" / "resources" / "alert.wav").read_bytes()
    assert make_assets.alert_wav_bytes() == shipped


def test_make_assets_renders_every_size(qapp, tmp_path):
    make_assets = load_make_assets()
    written = make_assets.build(package_dir=tmp_path / "pkg", platform_dir=tmp_path / "platform")
    assert {p.name for p in written if p.parent == tmp_path / "pkg"} == EXPECTED_ASSETS
    for size in make_assets.SIZES:
        png = (tmp_path / "pkg" / f"kraken-monitor-{size}.png").read_bytes()
        width, height = struct.unpack(">II", png[16:24])  # IHDR
        assert (width, height) == (size, size)
    ico = (tmp_path / "platform" / "kraken-monitor.ico").read_bytes()
    assert struct.unpack("<HHH", ico[:6]) == (0, 1, len(make_assets.SIZES))
    icns = (tmp_path / "platform" / "kraken-monitor.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)


@pytest.mark.parametrize("name", ["kraken-monitor.ico", "kraken-monitor.icns"])
def test_committed_platform_icons_are_well_formed(name):
    data = (SOURCES / name).read_bytes()
    if name.endswith(".ico"):
        count = struct.unpack("<HHH", data[:6])[2]
        for i in range(count):
            size, offset = struct.unpack("<II", data[6 + 16 * i + 8 : 6 + 16 * i + 16])
            assert data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n" and offset + size <= len(data)
    else:
        assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)


def test_version_flag_matches_package_version():
    """The same `--version` the bundle smoke test (packaging/build.sh) prints."""
    from kraken_monitor import __version__

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-m", "kraken_monitor", "--version"], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0
    assert __version__ in out.stdout
