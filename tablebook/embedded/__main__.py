"""Entry point of `python -m tablebook.embedded` (see `_cli` for what it does)."""

import sys

from tablebook.embedded._cli import main

if __name__ == "__main__":
    sys.exit(main())
