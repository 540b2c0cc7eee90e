"""Process one message exactly once: parse, look up history, run the rules, file verdict and replies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.mail.counting import count_zi
from mailgate.mail.folding import fold
from mailgate.mail.model import Attachment, Submission
from mailgate.mail.parse import parse_message
from mailgate.registry import Registry
from mailgate.replies import Original, Rendered, Replies, ReplyError, ReplyFinding
from mailgate.store import NewMessage, NewReply, NewRevision, PastVerdict, Repository, Store, StoredItem
from mailgate.throttle import Audience, HeldBack, Throttle, recipient_key
from rules import Context, History, Inbox, Outcome, PriorItem, RuleRegistry, Verdict, evaluate, render

log = structlog.get_logger("mailgate.pipeline")


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a message came from: the mailbox, the source's key for it, and IMAP's UIDVALIDITY/UID."""

    mailbox: str
    key: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What an accepted message says about its item, computed once: the revision row, the receipt,
    `check --json` and the desk all read this one value."""

    unit_id: str
    title: str
    inbox: Inbox
    urgent: bool
    commissioned: bool
    commission_code: str | None
    body: str
    source: str | None
    attachment_name: str | None
    attachment_text: str | None
    counting: str
    body_zi: int
    attachment_zi: int | None
    #: The registered officer who sent it (None for a sender the registry does not know).
    officer: str | None
    officer_email: str | None
    #: The 落款 as the unit wrote it: name (姓名/作者), unit, phone and date.
    author: str | None
    author_unit: str | None
    phone: str | None
    signed_on: dt.date | None

    @classmethod
    def of(cls, submission: Submission, context: Context) -> ItemFacts:
        unit = context.unit_for(submission)
        officer = context.officer_for(submission)
        signature = submission.parts.signature
        word = first_word(submission.attachments)
        mode = context.settings.counting
        text = word.word.text if word is not None and word.word else None
        return cls(
            unit_id=unit.id if unit else (submission.subject.identifier or ""),
            title=_title(submission),
            inbox=context.inbox,
            urgent=submission.subject.urgent,
            commissioned=submission.subject.commissioned,
            commission_code=submission.subject.commission_code,
            body=submission.parts.main,
            source=submission.parts.source,
            attachment_name=word.filename if word else None,
            attachment_text=text,
            counting=mode.value,
            body_zi=count_zi(submission.parts.main, mode),
            attachment_zi=count_zi(text, mode) if text else None,
            officer=officer.name if officer else None,
            officer_email=submission.from_address,
            author=signature.name if signature else None,
            author_unit=signature.unit if signature else None,
            phone=signature.phone if signature else None,
            signed_on=signature.date if signature else None,
        )

    def revision(self) -> NewRevision:
        """The revision row these facts become."""
        return NewRevision(
            unit_id=self.unit_id,
            title=self.title,
            title_key=fold(self.title),
            inbox=self.inbox.value,
            urgent=self.urgent,
            commission_code=self.commission_code,
            body=self.body,
            source=self.source,
            attachment_name=self.attachment_name,
            attachment_text=self.attachment_text,
            body_zi=self.body_zi,
            attachment_zi=self.attachment_zi,
            counting=self.counting,
            officer=self.officer,
            author=self.author,
            author_unit=self.author_unit,
            phone=self.phone,
            signed_on=self.signed_on,
        )

    def describe(self, item: StoredItem, prior: PriorItem | None) -> dict[str, Any]:
        """The filed item as receipts and the JSON output describe it."""
        return {
            "tracking": item.tracking,
            "unit": item.unit_id,
            "title": item.title,
            "inbox": self.inbox.value,
            "counting": self.counting,
            "body_chars": self.body_zi,
            "attachment_chars": self.attachment_zi,
            "attachment_name": self.attachment_name,
            "officer": self.officer,
            "officer_email": self.officer_email,
            "author_unit": self.author_unit,
            "author": self.author,
            "phone": self.phone,
            "date": self.signed_on.isoformat() if self.signed_on else None,
            "source": self.source,
            "revision": item.revision > 1,
            "revision_number": item.revision,
            "revises": prior.tracking if prior and item.revision > 1 else None,
            "urgent": self.urgent,
            "commissioned": self.commissioned,
            "commission_code": self.commission_code,
        }


@dataclass(frozen=True, slots=True)
class Processed:
    """The outcome of processing one message."""

    submission: Submission
    context: Context
    verdict: Verdict
    item: StoredItem | None  # the item filed (new or revised) when accepted
    message_pk: int
    replies: int = 0  # replies queued to be sent (suppressed ones not counted)
    #: The item as receipts and `check --json` describe it, when one was filed.
    facts: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One message parsed and judged against the history a repository shows."""

    submission: Submission
    context: Context
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class AlreadyProcessed:
    """The message was on file already (a restart, or a UIDVALIDITY change): nothing was done."""

    past: PastVerdict


class Pipeline:
    """Runs the rules on messages and files each verdict, item and reply in one transaction."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        settings: Settings,
        rules: RuleRegistry,
        *,
        replies: Replies | None = None,
        answer_old: bool = False,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings
        self.rules = rules
        self.replies = replies
        #: Answer mail older than ``replies.max_age_hours`` too (an operator replays it on purpose).
        self.answer_old = answer_old
        self.clock = clock
        self._zone = settings.zone
        self._throttle = Throttle(settings.replies, self._zone)
        #: How far ahead of our clock a Received stamp may be (the clocks' allowed skew).
        self._skew = dt.timedelta(minutes=settings.rules.clock_skew_minutes)

    async def process(
        self,
        raw: bytes,
        *,
        inbox: Inbox,
        ref: MessageRef,
        received_at: dt.datetime | None = None,
        delivered_at: dt.datetime | None = None,
        size: int | None = None,
        same_bytes_are_same_message: bool = False,
    ) -> Processed | AlreadyProcessed:
        """Parse ``raw``, evaluate it, and record the verdict with its item and replies.

        A message whose ``ref`` is on file already is not processed again. With
        ``same_bytes_are_same_message`` (IMAP after a UIDVALIDITY change), neither is one whose
        exact bytes were seen in the same mailbox. ``size`` is the real size when ``raw`` holds only
        the headers of an oversized message. The message arrived at ``received_at`` (the source's own
        time, IMAP's INTERNALDATE), else at its topmost Received header, else at ``delivered_at`` (a
        file's time), else now."""
        started = time.perf_counter()
        submission = parse_message(raw, max_size=self.settings.rules.max_message_bytes, size=size)
        now = self.clock.now()
        stamped = received_header_time(submission, not_after=now + self._skew)
        arrival = received_at or stamped or delivered_at or now
        async with self.store.transaction() as repo:
            past = await repo.past_verdict(
                ref.mailbox, ref.key, submission.content_hash if same_bytes_are_same_message else None
            )
            if past is not None:
                log.info("message_already_processed", mailbox=ref.mailbox, key=ref.key, verdict=past.verdict)
                return AlreadyProcessed(past)
            context, verdict = await self._judge(repo, submission, inbox, arrival)
            now = self.clock.now()
            record = self._message(submission, context, verdict, ref, raw)
            elapsed = round((time.perf_counter() - started) * 1000, 2)
            message_pk = await repo.add_message(dataclasses.replace(record, processing_ms=elapsed), now)
            item = facts = None
            if verdict.outcome is Outcome.ACCEPTED:
                item, facts = await self.file_item(repo, submission, context, message_pk, now)
            queued = await self.queue_replies(
                repo, submission, context, verdict, item, facts, message_pk, now
            )
        log.info(
            "message_processed",
            mailbox=ref.mailbox,
            uid=ref.uid,
            message_id=submission.message_id,
            verdict=verdict.outcome.value,
            rules=[f.rule for f in verdict.findings],
            tracking=item.tracking if item else None,
            replies=queued,
        )
        return Processed(submission, context, verdict, item, message_pk, queued, facts)

    async def evaluate(
        self,
        repo: Repository,
        raw: bytes,
        *,
        inbox: Inbox,
        received_at: dt.datetime | None = None,
        size: int | None = None,
        fallback: dt.datetime | None = None,
    ) -> Evaluation:
        """Parse and judge ``raw`` as :meth:`process` would, against the history ``repo`` shows,
        recording nothing (a replay passes ``repo.as_if_new(...)``). Without ``received_at`` the message
        arrived at its topmost Received header, else at ``fallback``, else now."""
        submission = parse_message(raw, max_size=self.settings.rules.max_message_bytes, size=size)
        now = self.clock.now()
        stamped = received_header_time(submission, not_after=now + self._skew)
        arrival = received_at or stamped or fallback or now
        context, verdict = await self._judge(repo, submission, inbox, arrival)
        return Evaluation(submission, context, verdict)

    async def _judge(
        self, repo: Repository, submission: Submission, inbox: Inbox, arrival: dt.datetime
    ) -> tuple[Context, Verdict]:
        context = await self.context(repo, submission, inbox, arrival)
        return context, evaluate(submission, context, self.rules)

    async def context(
        self, repo: Repository, submission: Submission, inbox: Inbox, arrival: dt.datetime
    ) -> Context:
        """The facts the rules consult, the history as ``repo`` sees it."""
        context = Context(self.registry, inbox, arrival, self.settings.rules)
        seen_by = await repo.seen(submission.message_id, submission.content_hash)
        unit = context.unit_for(submission)
        stored: StoredItem | None = None
        linked_by: Literal["in-reply-to", "title"] = "title"
        if submission.subject.revision and submission.in_reply_to:
            stored = await repo.item_by_reply(submission.in_reply_to)
            if stored is not None and (unit is None or stored.unit_id == unit.id):
                linked_by = "in-reply-to"
            else:
                stored = None
        title = _title(submission)
        if stored is None and unit is not None and title:
            stored = await repo.item_by_title(unit.id, fold(title))
        prior = PriorItem(stored.tracking, stored.title, stored.unit_id, linked_by) if stored else None
        return dataclasses.replace(context, history=History(seen_by, prior))

    def _message(
        self, submission: Submission, context: Context, verdict: Verdict, ref: MessageRef, raw: bytes
    ) -> NewMessage:
        unit = context.unit_for(submission)
        return NewMessage(
            mailbox=ref.mailbox,
            uidvalidity=ref.uidvalidity,
            uid=ref.uid,
            source_key=ref.key,
            message_id=submission.message_id,
            content_hash=submission.content_hash,
            size=submission.raw_size,
            from_address=submission.from_address,
            subject=submission.subject.raw,
            unit_id=unit.id if unit else None,
            received_at=context.received_at,
            verdict=verdict.outcome.value,
            findings=stored_findings(verdict),
            raw=raw if self.settings.store.keep_raw else None,
        )

    async def file_item(
        self, repo: Repository, submission: Submission, context: Context, message_pk: int, now: dt.datetime
    ) -> tuple[StoredItem, dict[str, Any]]:
        """File an accepted message as a new item or the next revision of its prior item; returns the
        item and its facts as the receipt states them."""
        prior = context.history.prior_item
        revises = await repo.item_by_tracking(prior.tracking) if prior else None
        late = False
        code = submission.subject.commission_code
        if code:
            commission = await repo.commission(code)
            late = commission is not None and context.received_at > commission.deadline
        facts = ItemFacts.of(submission, context)
        item = await repo.add_revision(
            facts.revision(), message_pk=message_pk, revises=revises, now=now, late=late, zone=self._zone
        )
        return item, facts.describe(item, prior)

    async def queue_replies(
        self,
        repo: Repository,
        submission: Submission,
        context: Context,
        verdict: Verdict,
        item: StoredItem | None,
        facts: dict[str, Any] | None,
        message_pk: int,
        now: dt.datetime,
    ) -> int:
        """Queue the receipt or notice (and an urgent alert); returns how many will be sent.

        Registered officers get every finding; a stranger (an unregistered sender, often a forged From)
        gets at most one short notice a day that quotes nothing of theirs. A reply that cannot be built
        (an address that cannot go on the wire) is kept as undeliverable, with the reason."""
        if self.replies is None or verdict.outcome is Outcome.IGNORED or not submission.from_address:
            return 0
        settings = self.settings.replies
        replies = self.replies
        original = Original(
            message_id=submission.message_id,
            references=submission.references,
            subject=submission.subject.raw,
            sender=submission.from_address,
            sender_name=submission.from_name,
            received_at=context.received_at.astimezone(self._zone),
        )
        # A registered officer (active or not) is told every finding; anyone else is a stranger.
        known = context.registry.registered(submission.from_address) is not None
        audience = Audience.OFFICER if known else Audience.STRANGER
        findings = [ReplyFinding(**f) for f in self.messages_for(verdict)]
        answer: tuple[str, Callable[[], Rendered]]
        if facts is not None and item is not None:
            warnings = [f for f in findings if f.severity == "warn"]
            answer = ("receipt", lambda: replies.render_receipt(original, facts, warnings))
        elif audience is Audience.STRANGER:
            answer = ("stranger", lambda: replies.render_stranger_notice(original))
        else:
            answer = ("rejection", lambda: replies.render_rejection(original, findings))
        key = recipient_key(submission.from_address)
        decision = await self._throttle.decide(
            repo,
            kind=answer[0],
            key=key,
            audience=audience,
            arrival=context.received_at,
            now=now,
            answer_old=self.answer_old,
        )
        queued = [
            await self._queue(
                repo,
                answer,
                NewReply(
                    kind=answer[0],
                    sender=settings.from_address,
                    recipient=submission.from_address,
                    reply_message_id="",
                    raw=b"",
                    item_id=item.id if item else None,
                    suppressed=decision.held_back.value if decision.held_back else None,
                    recipient_key=key,
                    audience=audience.value,
                    due_at=decision.due_at,
                ),
                submission,
                message_pk,
                now,
            )
        ]
        if facts is not None and submission.subject.urgent and settings.editors_address:
            editors = settings.editors_address
            alert = ("alert", lambda: replies.render_alert(original, facts, editors))
            reply = NewReply("alert", settings.from_address, editors, "", b"", item.id if item else None)
            queued.append(await self._queue(repo, alert, reply, submission, message_pk, now))
        return sum(queued)

    async def _queue(
        self,
        repo: Repository,
        answer: tuple[str, Callable[[], Rendered]],
        reply: NewReply,
        submission: Submission,
        message_pk: int,
        now: dt.datetime,
    ) -> int:
        """Render and queue one reply (or keep it as held back, with the reason); 1 if it will be sent."""
        kind, render_it = answer
        try:
            message = render_it()
        except ReplyError as exc:
            log.warning("reply_undeliverable", message_id=submission.message_id, kind=kind, reason=exc.reason)
            reply = dataclasses.replace(
                reply, suppressed=HeldBack.UNDELIVERABLE.value, error=exc.reason, reply_message_id=""
            )
        else:
            reply = dataclasses.replace(
                reply, recipient=message.recipient, reply_message_id=message.message_id, raw=message.raw
            )
        if reply.suppressed is not None and reply.suppressed != HeldBack.UNDELIVERABLE:
            log.info("reply_suppressed", message_id=submission.message_id, kind=kind, reason=reply.suppressed)
        await repo.add_reply(reply, message_pk=message_pk, now=now)
        return 0 if reply.suppressed else 1

    def messages_for(self, verdict: Verdict) -> list[dict[str, Any]]:
        """The findings of ``verdict`` with their rendered messages, for reports and replies."""
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


def stored_findings(verdict: Verdict) -> list[dict[str, Any]]:
    """The findings of ``verdict`` as the messages table keeps them."""
    return [
        {"rule": f.rule, "severity": f.severity.value, "reason": f.reason, "params": dict(f.params)}
        for f in verdict.findings
    ]


def first_word(attachments: tuple[Attachment, ...]) -> Attachment | None:
    """The first attachment that is a Word document."""
    return next((a for a in attachments if a.word is not None), None)


def _title(submission: Submission) -> str:
    return submission.subject.title or (submission.parts.title or "")


def received_header_time(
    submission: Submission, *, not_after: dt.datetime | None = None
) -> dt.datetime | None:
    """The date stamped by the topmost Received: header (the last hop, i.e. our own server), in UTC.

    None when there is none, it cannot be read or is out of range, or it is later than ``not_after``
    (a stamp from the future is no server's: it would make the message look new for ever)."""
    received = submission.header("received")
    if not received or ";" not in received:
        return None
    try:
        when = email.utils.parsedate_to_datetime(received.rsplit(";", 1)[1].strip())
        when = (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if not_after is not None and when > not_after:
        return None
    return when
