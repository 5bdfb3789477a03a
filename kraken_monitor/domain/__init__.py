"""Pure margin domain: models, Kraken margin math, costs, what-ifs and alert rules (stdlib only)."""
