"""Process one message exactly once: parse, look up history, run the rules, file the verdict."""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass
from typing import Any

import structlog

from mailgate.config import Settings
from mailgate.mail.counting import count_zi
from mailgate.mail.folding import fold
from mailgate.mail.model import Attachment, Submission
from mailgate.mail.parse import parse_message
from mailgate.registry import Registry
from mailgate.store import NewMessage, NewRevision, Repository, Store, StoredItem
from rules import Context, History, Inbox, Outcome, PriorItem, RuleRegistry, Verdict, evaluate, render

log = structlog.get_logger("mailgate.pipeline")


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a message came from: the mailbox and, for IMAP, its UIDVALIDITY and UID."""

    mailbox: str
    uidvalidity: int | None = None
    uid: int | None = None


@dataclass(frozen=True, slots=True)
class Processed:
    """The outcome of processing one message."""

    submission: Submission
    context: Context
    verdict: Verdict
    item: StoredItem | None  # the item filed (new or revised) when accepted
    message_pk: int


class Pipeline:
    """Runs the rules on messages and files each verdict in the store, one transaction per message."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        settings: Settings,
        rules: RuleRegistry,
        *,
        keep_raw: bool = True,
    ) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings
        self.rules = rules
        self.keep_raw = keep_raw

    async def process(
        self, raw: bytes, *, inbox: Inbox, ref: MessageRef, received_at: dt.datetime | None = None
    ) -> Processed:
        """Parse ``raw``, evaluate it and record the verdict (and the item, when accepted)."""
        submission = parse_message(raw, max_size=self.settings.rules.max_message_bytes)
        arrival = received_at or received_header_time(submission) or dt.datetime.now(dt.UTC)
        async with self.store.transaction() as repo:
            context = await self._context(repo, submission, inbox, arrival)
            verdict = evaluate(submission, context, self.rules)
            unit = context.unit_for(submission)
            now = dt.datetime.now(dt.UTC)
            message_pk = await repo.add_message(
                NewMessage(
                    mailbox=ref.mailbox,
                    uidvalidity=ref.uidvalidity,
                    uid=ref.uid,
                    message_id=submission.message_id,
                    content_hash=submission.content_hash,
                    size=submission.raw_size,
                    from_address=submission.from_address,
                    subject=submission.subject.raw,
                    unit_id=unit.id if unit else None,
                    received_at=arrival,
                    verdict=verdict.outcome.value,
                    findings=[
                        {
                            "rule": f.rule,
                            "severity": f.severity.value,
                            "reason": f.reason,
                            "params": dict(f.params),
                        }
                        for f in verdict.findings
                    ],
                    raw=raw if self.keep_raw else None,
                ),
                now,
            )
            item = None
            if verdict.outcome is Outcome.ACCEPTED:
                prior = context.history.prior_item
                revises = await repo.item_by_tracking(prior.tracking) if prior else None
                item = await repo.add_revision(
                    self._revision(submission, context), message_pk=message_pk, revises=revises, now=now
                )
        log.info(
            "message_processed",
            mailbox=ref.mailbox,
            uid=ref.uid,
            message_id=submission.message_id,
            verdict=verdict.outcome.value,
            rules=[f.rule for f in verdict.findings],
            tracking=item.tracking if item else None,
        )
        return Processed(submission, context, verdict, item, message_pk)

    async def _context(
        self, repo: Repository, submission: Submission, inbox: Inbox, arrival: dt.datetime
    ) -> Context:
        context = Context(self.registry, inbox, arrival, self.settings.rules)
        seen_by = await repo.seen(submission.message_id, submission.content_hash)
        prior: PriorItem | None = None
        unit = context.unit_for(submission)
        title = submission.subject.title or (submission.parts.title or "")
        if unit is not None and title:
            stored = await repo.item_by_title(unit.id, fold(title))
            if stored is not None:
                prior = PriorItem(stored.tracking, stored.title, stored.unit_id, "title")
        return Context(self.registry, inbox, arrival, self.settings.rules, History(seen_by, prior))

    def _revision(self, submission: Submission, context: Context) -> NewRevision:
        unit = context.unit_for(submission)
        officer = context.officer_for(submission)
        signature = submission.parts.signature
        word = first_word(submission.attachments)
        mode = context.settings.counting
        title = submission.subject.title or (submission.parts.title or "")
        return NewRevision(
            unit_id=unit.id if unit else (submission.subject.identifier or ""),
            title=title,
            title_key=fold(title),
            inbox=context.inbox.value,
            urgent=submission.subject.urgent,
            commission_code=submission.subject.commission_code,
            body=submission.parts.main,
            source=submission.parts.source,
            attachment_name=word.filename if word else None,
            attachment_text=word.word.text if word and word.word else None,
            body_zi=count_zi(submission.parts.main, mode),
            attachment_zi=count_zi(word.word.text, mode) if word and word.word and word.word.text else None,
            counting=mode.value,
            officer=officer.name if officer else (signature.name if signature else None),
            author_unit=signature.unit if signature else None,
            phone=signature.phone if signature else None,
            signed_on=signature.date if signature else None,
        )

    def messages_for(self, verdict: Verdict) -> list[dict[str, Any]]:
        """The findings of ``verdict`` with their rendered messages, for reports and JSON."""
        traditional = self.settings.script == "zh-Hant"
        return [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "message": render(
                    f, self.rules, overrides=self.settings.rules.messages, traditional=traditional
                ),
            }
            for f in verdict.findings
        ]


def first_word(attachments: tuple[Attachment, ...]) -> Attachment | None:
    """The first attachment that is a Word document."""
    return next((a for a in attachments if a.word is not None), None)


def received_header_time(submission: Submission) -> dt.datetime | None:
    """The date stamped by the topmost Received: header (the last hop, i.e. our own server)."""
    received = submission.header("received")
    if not received or ";" not in received:
        return None
    try:
        when = email.utils.parsedate_to_datetime(received.rsplit(";", 1)[1].strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
