"""``python -m valuegrad.autograd draw|grad ...``; see ``autograd.cli``."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
