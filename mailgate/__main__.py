"""Run the command line with ``python -m mailgate``."""

from mailgate.cli import main

main()
