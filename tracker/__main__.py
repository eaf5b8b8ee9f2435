"""The ``tracker`` command (``tracker ...`` and ``python -m tracker ...``)."""

import sys

from . import parser_process


def main():
    # A build or a check starts its parser process first of all, so that loading the
    # parser also overlaps loading typer and the command line (50-60 ms of each run).
    parser_process.start_early(sys.argv[1:2])
    from .cli import app

    app()


if __name__ == "__main__":
    main()
