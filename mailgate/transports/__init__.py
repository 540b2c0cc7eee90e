"""Reply transports: SMTP, and .eml files for the embedded default."""

from mailgate.transports.base import BeforeData, Outgoing, Transport

__all__ = ["BeforeData", "Outgoing", "Transport"]
