"""``python -m autograd draw|grad ...``; see ``autograd.cli``."""

from autograd.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
