"""``python -m valuegrad.autograd draw|grad ...``; see ``autograd.cli``."""

from valuegrad.autograd.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
