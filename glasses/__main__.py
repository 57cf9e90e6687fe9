"""`python -m glasses`, and the `glasses` command an install puts on the PATH: both run `run`."""
import sys

from glasses.cli import main


def run() -> None:
    """glasses.cli.main, its status the process's, ending quietly when interrupted or when its output is cut."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.exit(0)


if __name__ == "__main__":
    run()
