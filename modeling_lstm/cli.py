"""Run a script's main function the way every script here does: user errors as one line and exit code 2."""

import sys
from collections.abc import Callable


def run_cli(main: Callable[[list[str] | None], object], argv: list[str] | None = None) -> int:
    from .errors import UserInputError

    try:
        main(argv)
    except UserInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
