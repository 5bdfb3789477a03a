"""PyInstaller entry script: runs the same `main()` the `kraken-monitor` console script runs."""

import sys

from kraken_monitor.cli import main

if __name__ == "__main__":
    sys.exit(main())
