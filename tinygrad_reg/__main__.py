"""``python -m tinygrad_reg``: the command line (see cli.py); with no arguments, the demo."""

import sys

from .cli import main

sys.exit(main())
