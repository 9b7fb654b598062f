"""`python -m compat` is the `compat` command.

Signals are taken before the harness is imported (compat.signals): a SIGINT or SIGTERM while it
is still importing is one line and exit 130 / 143 like one at any later instant.
"""

import sys

from compat import signals


def main() -> int:
    signals.install()
    try:
        from compat.cli import main as run

        return run()
    except KeyboardInterrupt as exc:  # before or after cli.main's own handling: while importing, parsing
        return signals.stopped(exc)


if __name__ == "__main__":
    sys.exit(main())
