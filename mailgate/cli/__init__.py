"""The `mailgate` command line; each command is a thin layer over the library."""

from mailgate.cli import _core, _desk, _web  # noqa: F401 - importing registers their commands
from mailgate.cli._app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
