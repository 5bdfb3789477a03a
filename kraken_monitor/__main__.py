"""`python -m kraken_monitor` is the same as the `kraken-monitor` console script."""

import sys

from kraken_monitor.cli import main

if __name__ == "__main__":
    sys.exit(main())
