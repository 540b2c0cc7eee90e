"""spoofed-sender: trusted Authentication-Results say DKIM, SPF or DMARC failed for the From domain."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import ClassVar

from mailgate.mail.model import Submission
from rules.base import Finding, Severity
from rules.context import Context

_COMMENT = re.compile(r"\([^()]*\)")
_DOMAIN_PROPERTIES = ("header.from", "header.d", "header.i", "smtp.mailfrom")


class SpoofedSender:
    name: ClassVar[str] = "spoofed-sender"
    description: ClassVar[str] = "a trusted Authentication-Results header says DKIM/SPF/DMARC failed"
    severity: ClassVar[Severity] = Severity.IGNORE
    final: ClassVar[bool] = False
    messages: ClassVar[Mapping[str, str]] = {
        "default": "{authserv_id} 的认证结果为 {method}=fail（发件域 {domain}），"
        "发件人地址可能是伪造的，不予答复。如确为本单位发出，请联系本单位邮件系统管理员检查 SPF/DKIM 设置。",
    }

    def check(self, submission: Submission, context: Context) -> Iterator[Finding]:
        trusted = {t.strip().lower() for t in context.settings.trusted_authserv_ids}
        if not trusted:
            return
        domain = (submission.from_address or "").rpartition("@")[2].lower()
        for header in submission.header_values("authentication-results"):
            authserv_id, results = _parse(header)
            if authserv_id not in trusted:
                continue
            failed = next((m for m, props in results if _fails_for(m, props, domain)), None)
            if failed is not None:
                method = failed.partition("=")[0]
                params = {"authserv_id": authserv_id, "method": method, "domain": domain}
                yield Finding(self.name, self.severity, params=params)
                return


def _parse(header: str) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    """The authserv-id and each result as ("method=result", {property: value})."""
    text = header
    while _COMMENT.search(text):
        text = _COMMENT.sub(" ", text)
    first, *resinfos = text.split(";")
    tokens = first.split()
    results: list[tuple[str, dict[str, str]]] = []
    for resinfo in resinfos:
        words = resinfo.split()
        if not words:
            continue
        props = dict(_pair(w) for w in words[1:] if "=" in w)
        results.append((words[0].lower(), props))
    return (tokens[0].lower() if tokens else ""), results


def _pair(word: str) -> tuple[str, str]:
    key, _, value = word.partition("=")
    return key.lower(), value.strip('"').lower()


def _fails_for(method_result: str, props: Mapping[str, str], domain: str) -> bool:
    """Whether one result is a failure that concerns the From domain."""
    method, _, result = method_result.partition("=")
    if result != "fail":
        return False
    if method == "dmarc":
        return True
    if method not in ("dkim", "spf") or not domain:
        return False
    return any(props.get(p, "").rpartition("@")[2] == domain for p in _DOMAIN_PROPERTIES)


rule = SpoofedSender()
