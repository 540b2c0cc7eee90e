"""Receipts, rejection notices and urgent alerts, rendered from templates an operator can override."""

from mailgate.replies._build import Rendered, Replies
from mailgate.replies._model import Original, ReplyFinding, ReplyKind

__all__ = ["Original", "Rendered", "Replies", "ReplyFinding", "ReplyKind"]
