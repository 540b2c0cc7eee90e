"""The frozen facts from outside a message that rules may consult: registry, inbox, time, history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from mailgate.config import RulesSettings
from mailgate.kinds import Inbox
from mailgate.mail.model import Submission
from mailgate.registry import Officer, Registry, Unit
from rules.base import Rule, Severity


@dataclass(frozen=True, slots=True)
class PriorItem:
    """An item already on file that a new message may revise."""

    tracking: str
    title: str
    unit: str
    linked_by: Literal["in-reply-to", "title"]


@dataclass(frozen=True, slots=True)
class History:
    """What the store knows that bears on this message, looked up before the rules run."""

    #: How the same message was recognised as already processed, if it was.
    seen_by: Literal["message-id", "content-hash"] | None = None
    #: The item this message would revise (same unit and title, or the receipt it replies to).
    prior_item: PriorItem | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a rule may know besides the submission itself."""

    registry: Registry
    inbox: Inbox
    received_at: dt.datetime  # timezone-aware
    settings: RulesSettings = field(default_factory=RulesSettings)
    history: History = field(default_factory=History)

    def severity_of(self, rule: Rule) -> Severity:
        configured = self.settings.severities.get(rule.name)
        return rule.severity if configured is None else Severity(configured)

    def officer_for(self, submission: Submission) -> Officer | None:
        """The registered, active officer who sent the submission."""
        return self.registry.officer(submission.from_address)

    def unit_for(self, submission: Submission) -> Unit | None:
        """The sender's unit: the officer's, else the unit the subject's 標識 names."""
        officer = self.officer_for(submission)
        if officer is not None:
            return self.registry.units.get(officer.unit)
        return self.registry.unit_named(submission.subject.identifier)
