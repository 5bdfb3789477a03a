"""Exchange adapters: live Kraken via ccxt, paper account, embedded demo market."""
