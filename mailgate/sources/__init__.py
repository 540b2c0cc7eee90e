"""Message sources: local Maildir folders and IMAP mailboxes, behind one small protocol."""

from mailgate.sources.base import Checkpoint, Checkpoints, Disposition, Fetched, Source

__all__ = ["Checkpoint", "Checkpoints", "Disposition", "Fetched", "Source"]
