"""Replay: run logged messages again through the current rules and registry, preview, then apply."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.desk.log import LogFilter, list_log
from mailgate.errors import StoreError, describe
from mailgate.pipeline import AlreadyProcessed, Evaluation, MessageRef, Pipeline, stored_findings
from mailgate.replies import Replies
from mailgate.store import Repository, Store
from mailgate.store.models import Failure, Message, Outbox, Replay
from mailgate.store.registry import load_registry
from rules import Inbox, Outcome, Verdict, default_rules

#: What a replay reference names: a message with a verdict, or a failure (quarantined, no verdict).
REF_KINDS: tuple[str, ...] = ("message", "failure")
#: Verdicts an applied replay may change; an accepted message has an item and replies already.
APPLICABLE: tuple[str, ...] = ("rejected", "ignored")

NOTE_ACCEPTED = "已受理的邮件只能预览，不能重放（已归档的稿件和回执不会改动）"
NOTE_UNCHANGED = "结果不变，无需重放"
NOTE_NO_RAW = "未保存原始邮件，无法重放"
NOTE_RELEASED = "该隔离邮件已放行"
NOTE_RETRYING = "尚未隔离：守护进程仍在重试该邮件"
NOTE_NO_REPLY = "未发送回复（未选择发送回复）"


@dataclass(frozen=True, slots=True)
class ReplayRef:
    """A row of the rejection log: ``message:ID`` (a verdict) or ``failure:ID`` (a quarantined message)."""

    kind: str
    id: int

    @classmethod
    def parse(cls, text: str) -> ReplayRef:
        """``message:12`` or ``failure:3``; ValueError for anything else."""
        kind, _, number = text.strip().partition(":")
        if kind not in REF_KINDS or not number.isdigit():
            raise ValueError(f"not a message:ID or failure:ID reference: {text!r}")
        return cls(kind, int(number))

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class ReplayPreview:
    """What replaying one logged message gives (or gave, once applied)."""

    ref: ReplayRef
    received_at: dt.datetime
    from_address: str | None
    subject: str
    old_verdict: str  # accepted | rejected | ignored | quarantined
    new_verdict: str
    old_rules: list[str]
    new_rules: list[str]
    changed: bool
    #: What applying sends (with replies switched on): "receipt", "rejection" or None.
    reply: str | None
    note: str = ""
    #: Whether applying would change something (only a rejected, ignored or quarantined message).
    applicable: bool = False
    #: Whether this replay was applied (only in what ``apply`` returns).
    applied: bool = False
    #: The item filed when the replay accepted the message.
    tracking: str | None = None


async def refs_for(store: Store, where: LogFilter, limit: int) -> list[ReplayRef]:
    """The first ``limit`` rows of the rejection log that ``where`` selects, newest first."""
    refs: list[ReplayRef] = []
    cursor: str | None = None
    while len(refs) < limit:
        page = await list_log(store, where, cursor=cursor, limit=min(limit - len(refs), 200))
        refs.extend(ReplayRef(row.kind, row.id) for row in page.rows)
        if page.next_cursor is None or not page.rows:
            break
        cursor = page.next_cursor
    return refs[:limit]


async def preview(
    store: Store,
    settings: Settings,
    refs: Sequence[ReplayRef],
    *,
    progress: Callable[[ReplayPreview], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[ReplayPreview]:
    """What replaying each of ``refs`` would change, changing nothing (LookupError for an unknown ref)."""
    pipeline = await _pipeline(store, settings, send_replies=False, clock=clock)
    results: list[ReplayPreview] = []
    for ref in refs:
        planned = await _preview_one(pipeline, ref)
        results.append(planned)
        if progress is not None:
            progress(planned)
    return results


async def apply(
    store: Store,
    settings: Settings,
    refs: Sequence[ReplayRef],
    username: str,
    *,
    send_replies: bool,
    progress: Callable[[ReplayPreview], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[ReplayPreview]:
    """Replay each of ``refs`` for real: a rejected or ignored message gets its new verdict (and its
    item and reply), a quarantined one is processed and released. Each ref commits on its own;
    one that changes nothing, or cannot be applied, is left as it is and says why in ``note``."""
    pipeline = await _pipeline(store, settings, send_replies=send_replies, clock=clock)
    results: list[ReplayPreview] = []
    for ref in refs:
        if ref.kind == "message":
            done = await _apply_message(pipeline, ref, username, send_replies=send_replies)
        else:
            done = await _apply_failure(pipeline, ref, username, send_replies=send_replies)
        results.append(done)
        if progress is not None:
            progress(done)
    return results


async def _preview_one(pipeline: Pipeline, ref: ReplayRef) -> ReplayPreview:
    """What replaying ``ref`` would do, from a read-only snapshot (the rules run without the write lock)."""
    async with pipeline.store.reading() as repo:
        plan = _plan_message if ref.kind == "message" else _plan_failure
        planned, _ = await plan(pipeline, repo.session, ref)
    return planned


async def _pipeline(store: Store, settings: Settings, *, send_replies: bool, clock: Clock) -> Pipeline:
    """The daemon's pipeline over the registry now in the database; replays answer old mail too."""
    replies = None
    if send_replies:
        replies = Replies.from_settings(settings, clock=clock)
    registry = await load_registry(store)
    return Pipeline(store, registry, settings, default_rules(), replies=replies, answer_old=True, clock=clock)


async def _evaluate(
    pipeline: Pipeline,
    repo: Repository,
    raw: bytes,
    *,
    size: int | None,
    mailbox: str,
    arrival: dt.datetime | None,
    fallback: dt.datetime,
) -> Evaluation | str:
    """The verdict the current rules give ``raw``, or the error that stopped them. Without a known
    ``arrival``, the message arrived at its topmost Received header, else at ``fallback``."""
    try:
        return await pipeline.evaluate(
            repo, raw, inbox=Inbox(mailbox), received_at=arrival, size=size, fallback=fallback
        )
    except (SQLAlchemyError, StoreError):
        raise
    except Exception as exc:  # a message that still breaks parsing or a rule stays where it is
        return describe(exc)


async def _plan_message(
    pipeline: Pipeline, session: AsyncSession, ref: ReplayRef
) -> tuple[ReplayPreview, Evaluation | None]:
    """The preview of a message row, and the evaluation to apply when it can be applied."""
    row = await session.get(Message, ref.id)
    if row is None:
        raise LookupError(f"no message {ref.id}")
    old_rules = _rules(row.findings)
    planned = ReplayPreview(
        ref=ref,
        received_at=row.received_at,
        from_address=row.from_address,
        subject=row.subject,
        old_verdict=row.verdict,
        new_verdict=row.verdict,
        old_rules=old_rules,
        new_rules=old_rules,
        changed=False,
        reply=None,
        note=NOTE_NO_RAW,
    )
    if row.raw is None:
        return planned, None
    evaluation = await _evaluate(
        pipeline,
        Repository(session).as_if_new(row.id),
        row.raw,
        size=row.size,
        mailbox=row.mailbox,
        arrival=row.received_at,
        fallback=row.received_at,
    )
    if isinstance(evaluation, str):
        return dataclasses.replace(planned, note=f"仍无法处理：{evaluation}"), None
    new = evaluation.verdict.outcome.value
    changed = new != row.verdict or _plain(stored_findings(evaluation.verdict)) != _plain(row.findings)
    planned = dataclasses.replace(
        planned, new_verdict=new, new_rules=_rules(stored_findings(evaluation.verdict)), changed=changed
    )
    if row.verdict not in APPLICABLE:
        return dataclasses.replace(planned, note=NOTE_ACCEPTED), None
    if not changed:
        return dataclasses.replace(planned, note=NOTE_UNCHANGED), None
    planned = dataclasses.replace(planned, reply=_reply_for(evaluation.verdict), note="", applicable=True)
    return planned, evaluation


async def _plan_failure(
    pipeline: Pipeline, session: AsyncSession, ref: ReplayRef
) -> tuple[ReplayPreview, Evaluation | None]:
    """The preview of a quarantined message, and its evaluation when it can be applied."""
    failure = await session.get(Failure, ref.id)
    if failure is None:
        raise LookupError(f"no failure {ref.id}")
    planned = ReplayPreview(
        ref=ref,
        received_at=failure.first_failed_at,
        from_address=failure.from_address,
        subject=failure.subject or "",
        old_verdict="quarantined",
        new_verdict="quarantined",
        old_rules=[],
        new_rules=[],
        changed=False,
        reply=None,
        note=NOTE_RETRYING,
    )
    if failure.raw is None or failure.quarantined_at is None:
        return planned, None
    evaluation = await _evaluate(
        pipeline,
        Repository(session),
        failure.raw,
        size=None,
        mailbox=failure.mailbox,
        arrival=None,
        fallback=failure.first_failed_at,
    )
    if isinstance(evaluation, str):
        return dataclasses.replace(planned, note=f"仍无法处理：{evaluation}"), None
    submission = evaluation.submission
    planned = dataclasses.replace(
        planned,
        received_at=evaluation.context.received_at,
        from_address=submission.from_address or failure.from_address,
        subject=submission.subject.raw or planned.subject,
        new_verdict=evaluation.verdict.outcome.value,
        new_rules=[f.rule for f in evaluation.verdict.findings],
        changed=True,
        reply=_reply_for(evaluation.verdict),
        note="",
        applicable=True,
    )
    if failure.released_at is not None:
        released = dataclasses.replace(
            planned, changed=False, reply=None, note=NOTE_RELEASED, applicable=False
        )
        return released, None
    return planned, evaluation


async def _apply_message(
    pipeline: Pipeline, ref: ReplayRef, username: str, *, send_replies: bool
) -> ReplayPreview:
    """Give one message its new verdict, item and reply, with a Replay row, in one transaction."""
    try:
        return await _apply_message_in(pipeline, ref, username, send_replies=send_replies)
    except (StoreError, LookupError):
        raise
    except Exception as exc:  # filing or a reply failed on this message: nothing of it was committed
        planned = await _preview_one(pipeline, ref)
        note = f"无法应用：{describe(exc)}"
        return dataclasses.replace(planned, note=note, applicable=False)


async def _apply_message_in(
    pipeline: Pipeline, ref: ReplayRef, username: str, *, send_replies: bool
) -> ReplayPreview:
    async with pipeline.store.transaction() as repo:
        planned, evaluation = await _plan_message(pipeline, repo.session, ref)
        row = await repo.session.get(Message, ref.id)
        if evaluation is None or row is None:
            return planned
        now = pipeline.clock.now()
        submission, context, verdict = evaluation.submission, evaluation.context, evaluation.verdict
        unit = context.unit_for(submission)
        replay = Replay(
            message_pk=row.id,
            username=username,
            at=now,
            old_verdict=row.verdict,
            new_verdict=verdict.outcome.value,
            old_findings=row.findings,
            new_findings=stored_findings(verdict),
        )
        row.verdict, row.findings = replay.new_verdict, replay.new_findings
        row.unit_id = unit.id if unit else None
        item = facts = None
        if verdict.outcome is Outcome.ACCEPTED:
            item, facts = await pipeline.file_item(repo, submission, context, row.id, now)
        outbox = None
        if send_replies and verdict.outcome is not Outcome.IGNORED:
            await pipeline.queue_replies(repo, submission, context, verdict, item, facts, row.id, now)
            outbox = await _answer(repo.session, row.id)
        replay.outbox_id = outbox.id if outbox else None
        repo.session.add(replay)
    return _applied(planned, outbox, item.tracking if item else None, send_replies=send_replies)


async def _apply_failure(
    pipeline: Pipeline, ref: ReplayRef, username: str, *, send_replies: bool
) -> ReplayPreview:
    """Process a quarantined message through the whole pipeline, then release it."""
    async with pipeline.store.transaction() as repo:
        planned, evaluation = await _plan_failure(pipeline, repo.session, ref)
        failure = await repo.session.get(Failure, ref.id)
    if evaluation is None or failure is None or failure.raw is None:
        return planned
    try:
        result = await pipeline.process(
            failure.raw,
            inbox=Inbox(failure.mailbox),
            ref=MessageRef(failure.mailbox, failure.source_key),
            received_at=planned.received_at,
        )
    except StoreError:
        raise
    except Exception as exc:  # still poison: it stays quarantined
        note = f"仍无法处理：{describe(exc)}"
        return dataclasses.replace(planned, changed=False, reply=None, note=note, applicable=False)
    if isinstance(result, AlreadyProcessed):
        message_pk, tracking = result.past.message_pk, None
    else:
        message_pk, tracking = result.message_pk, result.item.tracking if result.item else None
    async with pipeline.store.transaction() as repo:
        failure = await repo.session.get(Failure, ref.id)
        message = await repo.session.get(Message, message_pk)
        if failure is None or message is None or failure.released_at is not None:
            return dataclasses.replace(
                planned, changed=False, reply=None, note=NOTE_RELEASED, applicable=False
            )
        now = pipeline.clock.now()
        failure.released_at = now
        outbox = await _answer(repo.session, message_pk) if send_replies else None
        repo.session.add(
            Replay(
                message_pk=message_pk,
                username=username,
                at=now,
                old_verdict="quarantined",
                new_verdict=message.verdict,
                old_findings=[],
                new_findings=message.findings,
                outbox_id=outbox.id if outbox else None,
            )
        )
        planned = dataclasses.replace(
            planned, new_verdict=message.verdict, new_rules=_rules(message.findings)
        )
    return _applied(planned, outbox, tracking, send_replies=send_replies)


async def _answer(session: AsyncSession, message_pk: int) -> Outbox | None:
    """The newest receipt or rejection notice queued for a message (not the editors' alert)."""
    result: Outbox | None = await session.scalar(
        select(Outbox)
        .where(Outbox.message_pk == message_pk, Outbox.kind != "alert")
        .order_by(Outbox.id.desc())
        .limit(1)
    )
    return result


def _applied(
    planned: ReplayPreview, outbox: Outbox | None, tracking: str | None, *, send_replies: bool
) -> ReplayPreview:
    """``planned`` as applied: the reply actually queued, and why none was."""
    if outbox is not None and outbox.status == "pending":
        reply, note = outbox.kind, "已应用"
    elif outbox is not None:
        reply, note = None, f"已应用；回复未发送（{outbox.reason}）"
    elif not send_replies and planned.reply is not None:
        reply, note = None, f"已应用；{NOTE_NO_REPLY}"
    else:
        reply, note = None, "已应用"
    return dataclasses.replace(
        planned, reply=reply, note=note, applicable=False, applied=True, tracking=tracking
    )


def _reply_for(verdict: Verdict) -> str | None:
    if verdict.outcome is Outcome.ACCEPTED:
        return "receipt"
    return "rejection" if verdict.outcome is Outcome.REJECTED else None


def _rules(findings: list[dict[str, Any]]) -> list[str]:
    return [str(f.get("rule")) for f in findings]


def _plain(findings: list[dict[str, Any]]) -> Any:
    """Findings as JSON gives them back, for comparing fresh findings with stored ones."""
    return json.loads(json.dumps(findings, default=str))
