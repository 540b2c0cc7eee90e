"""The desk in the browser: a Starlette application with server-rendered pages in Simplified Chinese."""

from mailgate.web.app import create_app

__all__ = ["create_app"]
