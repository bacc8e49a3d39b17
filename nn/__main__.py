"""``python -m valuegrad.nn``: see ``nn.cli``."""

import sys

from valuegrad.nn.cli import main

if __name__ == "__main__":
    sys.exit(main())
