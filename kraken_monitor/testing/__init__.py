"""Test support shipped with the app: a Kraken-protocol HTTP server for tests and benchmarks."""
