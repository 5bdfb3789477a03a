"""Venue and account kind are typed values; the strings `demo|paper|live` only exist at the edge."""

from __future__ import annotations

import json

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.venue import MODES, AccountKind, Venue
from kraken_monitor.paths import DB_FILENAME


def test_the_edge_strings_are_exactly_todays_mode_values():
    assert MODES == ("demo", "paper", "live")  # the --mode choices and the JSON "mode" values
    assert [AccountKind.parse(text) for text in MODES] == [AccountKind.DEMO, AccountKind.PAPER, AccountKind.LIVE]


def test_parse_accepts_a_kind_or_its_name_and_refuses_anything_else():
    assert AccountKind.parse(AccountKind.LIVE) is AccountKind.LIVE
    assert AccountKind.parse(" Paper ") is AccountKind.PAPER
    with pytest.raises(ValueError, match="moon"):
        AccountKind.parse("moon")


def test_only_live_is_real_money():
    assert [kind.simulated for kind in AccountKind] == [True, True, False]


def test_a_kind_reads_as_its_edge_string_in_text_and_json():
    assert f"{AccountKind.LIVE}" == str(AccountKind.LIVE) == "live"
    assert DB_FILENAME.format(mode=AccountKind.PAPER) == "kraken-monitor-paper.sqlite3"  # one journal per kind
    assert json.dumps({"mode": AccountKind.DEMO}) == '{"mode": "demo"}'
    assert f"{Venue.SPOT_MARGIN}" == "spot_margin"


def test_config_parses_the_edge_string_and_defaults_to_demo_on_spot_margin():
    config = MonitorConfig(mode="live")
    assert config.mode is AccountKind.LIVE
    assert MonitorConfig().mode is AccountKind.DEMO
    assert MonitorConfig().venue is Venue.SPOT_MARGIN
    with pytest.raises(ValueError):
        MonitorConfig(mode="moon")
