"""kraken-monitor: watches leveraged Kraken margin positions and warns before liquidation."""

__version__ = "0.1.0"
