"""`python -m compat` is the `compat` command."""

import sys

from compat.cli import main

sys.exit(main())
