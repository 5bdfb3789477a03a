"""`--currency CUR` end to end: `snapshot --json` as a subprocess against the Kraken-protocol test server.

Issue 11's book: 100 ETH long on ETH/XBT at 5x (entry 0.05 BTC, now 0.046), BTC/USD 19,000, EUR/USD 1.25,
BTC/EUR 15,200, collateral 20,000 USD. Quote-currency (BTC) figures: cost 5, margin 1, value 4.6, net -0.4.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import run_cli  # noqa: E402

from kraken_monitor.cli import build_config, build_parser  # noqa: E402


def test_currency_flag_is_parsed_everywhere_and_validated(tmp_path):
    parser = build_parser()
    for argv in (["--currency", "xbt"], ["snapshot", "--currency", "XBT"], ["watch", "--currency", "BTC"]):
        assert build_config(parser.parse_args(argv)).collateral_currency == "BTC"  # Kraken's XBT is BTC
    assert build_config(parser.parse_args(["snapshot"])).collateral_currency == "USD"
    result = run_cli(["snapshot", "--currency", "E U R"], tmp_path)
    assert result.returncode == 2 and "not a currency code" in result.stderr
