"""Replies: a verdict and its facts in, a threaded, loop-safe plain-text EmailMessage out."""

from __future__ import annotations

import datetime as dt
import email
import email.errors
import email.policy
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.errors import ConfigurationError
from mailgate.mail.excerpt import excerpt
from mailgate.replies import _samples, _wire
from mailgate.replies._address import wire_address
from mailgate.replies._model import Original, ReplyError, ReplyFinding, ReplyKind
from mailgate.replies._templates import SCRIPTS, clean, environment, one_line, render, template_name

#: Longest References list kept: the thread root plus the most recent ids (RFC 5322 3.6.4 allows trimming).
_MAX_REFERENCES = 20
#: Longest Message-ID a reply refers to: with its brackets it must fit one header line (998 octets).
_MAX_ID_CHARS = 900
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_NOT_IN_ID = re.compile(r"[\s<>\x00-\x1f\x7f]")
_EDITORS_SAMPLE = "editors@example.invalid"
_CRLF_SP = "\r\n "
_VERDICTS = {
    ReplyKind.RECEIPT: "accepted",
    ReplyKind.REJECTION: "rejected",
    ReplyKind.ALERT: "accepted",
    ReplyKind.STRANGER: "rejected",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply ready for the outbox: its bytes, who gets it, and its Message-ID (no brackets)."""

    raw: bytes
    recipient: str
    message_id: str

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, _class=EmailMessage, policy=email.policy.SMTP)
        if not isinstance(parsed, EmailMessage):  # pragma: no cover - _class guarantees it
            raise TypeError("not an EmailMessage")
        return parsed


class Replies:
    """Builds receipts, rejection and stranger notices and urgent-item alerts from one script's templates."""

    def __init__(
        self,
        *,
        sender: str,
        sender_name: str = "市政府办公厅新闻信息处",
        script: Literal["zh-Hans", "zh-Hant"] = "zh-Hans",
        template_dir: Path | None = None,
        loop_marker: str = "mailgate",
        domain: str = "mailgate.invalid",
        editors_address: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        """Load the templates and try each on sample data; a ConfigurationError names any that fails.

        ``editors_address`` is where the stranger notice tells unregistered senders to ask (it is
        left out when None); ``clock`` dates every reply."""
        if script not in SCRIPTS:
            raise ConfigurationError(f"reply script must be one of {', '.join(SCRIPTS)}, not {script!r}")
        if _DOMAIN.fullmatch(domain) is None:
            raise ConfigurationError(f"reply Message-ID domain {domain!r} is not a domain name")
        if not loop_marker.strip() or one_line(clean(loop_marker)) != loop_marker:
            raise ConfigurationError(f"X-Loop marker {loop_marker!r} must be one non-empty line")
        self._sender_name = one_line(clean(sender_name))
        try:
            self._from = Address(display_name=self._sender_name, addr_spec=wire_address(sender))
        except (ValueError, IndexError, email.errors.HeaderParseError, ReplyError) as exc:
            raise ConfigurationError(f"reply sender {sender!r} is not an e-mail address: {exc}") from exc
        self._editors = None
        if editors_address:
            try:
                self._editors = wire_address(editors_address.strip())
            except ReplyError as exc:
                raise ConfigurationError(
                    f"editors' address {editors_address!r} is not an e-mail address"
                ) from exc
        self._script = script
        self._loop_marker = loop_marker
        self._domain = domain
        self._clock = clock
        self._env = environment(script, template_dir)
        # Each template once on sample facts, through the same code as a real reply, so that a broken
        # override fails here (a ConfigurationError) rather than on the first message.
        for original, item, findings in (
            (_samples.FULL_ORIGINAL, _samples.FULL_ITEM, _samples.FINDINGS),
            (_samples.BARE_ORIGINAL, _samples.BARE_ITEM, ()),
        ):
            self._receipt(original, item, findings)
            self._rejection(original, findings)
            self._alert(original, item, _EDITORS_SAMPLE)
        for editors in dict.fromkeys((None, self._editors)):
            self._stranger(_samples.BARE_ORIGINAL, editors)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> Replies:
        """The replies ``settings`` describe: sender, script, templates, loop marker, domain, editors."""
        return cls(
            sender=settings.replies.from_address,
            sender_name=settings.replies.from_name,
            script=settings.script,
            template_dir=settings.replies.template_dir,
            loop_marker=settings.rules.loop_marker,
            domain=settings.replies.domain,
            editors_address=settings.replies.editors_address,
            clock=clock,
        )

    def receipt(
        self, original: Original, item: Mapping[str, Any], warnings: Sequence[ReplyFinding]
    ) -> EmailMessage:
        """The 回执 as an EmailMessage (see ``render_receipt``)."""
        return self.render_receipt(original, item, warnings).message()

    def rejection(self, original: Original, findings: Sequence[ReplyFinding]) -> EmailMessage:
        """The 退稿通知 as an EmailMessage (see ``render_rejection``)."""
        return self.render_rejection(original, findings).message()

    def alert(self, original: Original, item: Mapping[str, Any], to: str) -> EmailMessage:
        """The alert as an EmailMessage (see ``render_alert``)."""
        return self.render_alert(original, item, to).message()

    def stranger_notice(self, original: Original) -> EmailMessage:
        """The stranger notice as an EmailMessage (see ``render_stranger_notice``)."""
        return self.render_stranger_notice(original).message()

    def render_receipt(
        self, original: Original, item: Mapping[str, Any], warnings: Sequence[ReplyFinding]
    ) -> Rendered:
        """The 回执 for an accepted item: its tracking number, counts and every warning.

        ReplyError (and no other exception) when it cannot be built for this message."""
        return _answer(lambda: self._receipt(original, item, warnings))

    def render_rejection(self, original: Original, findings: Sequence[ReplyFinding]) -> Rendered:
        """The 退稿通知 for a refused item: every finding, numbered, and how to send it again.

        ReplyError (and no other exception) when it cannot be built for this message."""
        return _answer(lambda: self._rejection(original, findings))

    def render_alert(self, original: Original, item: Mapping[str, Any], to: str) -> Rendered:
        """The notice to the editors' address ``to`` that an urgent item has just been filed.

        ReplyError (and no other exception) when it cannot be built."""
        return _answer(lambda: self._alert(original, item, to))

    def render_stranger_notice(self, original: Original) -> Rendered:
        """The short notice to a sender who is not a registered officer: how a unit registers, whom to ask.

        It quotes nothing of the message (no display name, subject, body, link or Message-ID): the
        From address may be forged, and the notice then goes to someone who never wrote. Only
        ``original.sender`` (the recipient) and ``original.received_at`` are read.
        ReplyError (and no other exception) when it cannot be built."""
        return _answer(lambda: self._stranger(original, self._editors))

    def _receipt(
        self, original: Original, item: Mapping[str, Any], warnings: Sequence[ReplyFinding]
    ) -> Rendered:
        context = {"item": dict(item), "warnings": [_finding(w) for w in warnings]}
        return self._compose(
            ReplyKind.RECEIPT,
            original,
            context,
            to=_recipient(original, self._script),
            tracking=str(item["tracking"]),
        )

    def _rejection(self, original: Original, findings: Sequence[ReplyFinding]) -> Rendered:
        context = {"findings": [_finding(f) for f in findings]}
        return self._compose(
            ReplyKind.REJECTION, original, context, to=_recipient(original, self._script), tracking=None
        )

    def _alert(self, original: Original, item: Mapping[str, Any], to: str) -> Rendered:
        context = {"item": dict(item)}
        return self._compose(
            ReplyKind.ALERT, original, context, to=wire_address(to), tracking=str(item["tracking"])
        )

    def _stranger(self, original: Original, editors: str | None) -> Rendered:
        # Not one fact of the message goes into the context, so no template, not even an operator's,
        # can quote it.
        context = {
            "received": _chinese_time(original.received_at, self._script),
            "office": self._sender_name,
            "office_address": self._from.addr_spec,
            "editors_address": editors,
        }
        return self._compose(
            ReplyKind.STRANGER, original, context, to=wire_address(original.sender), tracking=None, bare=True
        )

    def _compose(
        self,
        kind: ReplyKind,
        original: Original,
        extra: Mapping[str, Any],
        *,
        to: tuple[str, str] | str,
        tracking: str | None,
        bare: bool = False,
    ) -> Rendered:
        """Render ``kind`` and wrap it in the headers a reply of that kind carries.

        ``to`` is a wire-form address, or (display name, wire-form address). ``bare``: ``extra`` is
        the whole context, and the reply is not threaded under the original."""
        traditional = self._script == "zh-Hant"
        context = (
            dict(extra)
            if bare
            else {
                "original": {
                    "message_id": original.message_id,
                    "references": list(original.references),
                    # What the sender wrote is quoted short and without links.
                    "subject": excerpt(original.subject, traditional=traditional),
                    "sender": original.sender,
                    "sender_name": excerpt(original.sender_name, traditional=traditional),
                    "received_at": original.received_at,
                },
                "received": _chinese_time(original.received_at, self._script),
                "office": self._sender_name,
                **extra,
            }
        )
        subject = one_line(render(self._env, template_name(self._script, kind, "subject"), context))
        body = render(self._env, template_name(self._script, kind, "body"), context)
        now = self._clock.now().astimezone(original.received_at.tzinfo or dt.UTC)
        message_id = f"<{now:%Y%m%d%H%M%S}.{uuid.uuid4().hex[:20]}@{self._domain}>"
        name, recipient = to if isinstance(to, tuple) else ("", to)
        headers = [
            ("From", _wire.address("From", self._from.display_name, self._from.addr_spec)),
            ("To", _wire.address("To", name, recipient)),
            ("Subject", subject),
            ("Date", _wire.date(now)),
            ("Message-ID", message_id),
        ]
        if kind is ReplyKind.ALERT:
            # Sent to the editors rather than in answer to them: RFC 3834 section 5 calls that
            # auto-generated, and it is not threaded under a message the editors never received.
            headers.append(("Auto-Submitted", "auto-generated"))
        else:
            if not bare:
                headers += _thread(original)
            headers.append(("Auto-Submitted", "auto-replied"))
        # No Precedence header, by RFC 3834: section 5 marks responses with Auto-Submitted alone and
        # Precedence has no standard meaning (its bulk/list/junk values would misdescribe a reply written
        # for one sender). Exchange and Outlook also honour their own header against auto-responses.
        headers += [
            ("X-Auto-Response-Suppress", "All"),
            ("X-Loop", self._loop_marker),
            ("X-Mailgate-Verdict", _VERDICTS[kind]),
        ]
        if tracking is not None:
            headers.append(("X-Mailgate-Tracking", one_line(clean(tracking))))
        headers.append(("Content-Language", self._script))
        raw = _wire.message(headers, body if body.endswith("\n") else body + "\n")
        return Rendered(raw, recipient, message_id.strip("<>"))


def _finding(finding: ReplyFinding) -> dict[str, str]:
    return {"rule": finding.rule, "severity": finding.severity, "message": finding.message}


def _answer(build: Callable[[], Rendered]) -> Rendered:
    """``build()``, with a template that fails on this message's facts reported as a ReplyError."""
    try:
        return build()
    except ConfigurationError as exc:
        raise ReplyError("template_failed") from exc


def _recipient(original: Original, script: str) -> tuple[str, str]:
    """The original sender's display name (quoted short, one line) and wire-form address."""
    name = excerpt(one_line(clean(original.sender_name)), traditional=script == "zh-Hant")
    return name, wire_address(original.sender)


def _msg_id(value: str | None) -> str | None:
    """A Message-ID as stored (no brackets) made safe for a header, or None if it cannot go on the wire."""
    cleaned = _NOT_IN_ID.sub("", value or "")
    if not cleaned or not cleaned.isascii() or len(cleaned) > _MAX_ID_CHARS:
        return None
    return f"<{cleaned}>"


def _thread(original: Original) -> list[tuple[str, str]]:
    """In-Reply-To and References (RFC 5322 3.6.4); ids that cannot go on the wire are left out."""
    parent = _msg_id(original.message_id)
    if parent is None:
        return []
    ids = [i for i in dict.fromkeys(map(_msg_id, original.references)) if i is not None and i != parent]
    ids.append(parent)
    if len(ids) > _MAX_REFERENCES:
        ids = ids[:1] + ids[-(_MAX_REFERENCES - 1) :]
    return [("In-Reply-To", parent), ("References", _CRLF_SP.join(ids))]


def _chinese_time(when: dt.datetime, script: str) -> str:
    """``when`` as 2004年1月8日10时32分 (10時32分 in Traditional), in its own time zone."""
    hour = "時" if script == "zh-Hant" else "时"
    return f"{when.year}年{when.month}月{when.day}日{when.hour}{hour}{when.minute:02d}分"
