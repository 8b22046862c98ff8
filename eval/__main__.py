"""`python -m eval`: score the bot on the gold set; see eval/runner.py."""

import sys

from .runner import main

sys.exit(main())
