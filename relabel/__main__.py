"""`python -m relabel ...`: see relabel/cli.py."""
import sys

from relabel.cli import main

if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # `suspects` piped into `head` and the like
        sys.exit(0)
