"""``python -m tinygrad_reg``: the command line (see app/cli.py); with no arguments, the demo."""

import sys

from .app.cli import main

sys.exit(main())
