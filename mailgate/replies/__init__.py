"""Receipts, rejection and stranger notices, urgent alerts: from templates an operator can override."""

from mailgate.replies._address import wire_address
from mailgate.replies._build import Rendered, Replies
from mailgate.replies._model import Original, ReplyError, ReplyFinding, ReplyKind

__all__ = ["Original", "Rendered", "Replies", "ReplyError", "ReplyFinding", "ReplyKind", "wire_address"]
