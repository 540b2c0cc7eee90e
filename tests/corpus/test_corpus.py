"""Acceptance corpus: each message gets the verdict and the rule findings SPEC.md implies (see README.md)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MESSAGES = HERE / "messages"
RUNS: list[dict[str, Any]] = tomllib.loads((HERE / "manifest.toml").read_text(encoding="utf-8"))["runs"]
EXPECTED = [m for run in RUNS for m in run["messages"]]

REJECT_RULES = (
    "unregistered-sender",
    "sender-name",
    "encoding",
    "required-elements",
    "identifier",
    "subject-title",
    "one-item",
    "body-length",
    "attachment-type",
    "attachment-unreadable",
    "attachment-length",
    "revision-unmarked",
    "wrong-inbox",
    "size-limit",
)
WARN_RULES = ("revision-orphan", "clock-skew", "stale-date")
IGNORE_RULES = ("auto-reply", "duplicate", "spoofed-sender")


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_build", HERE / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _command(run: dict[str, Any], files: list[Path]) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "mailgate",
        "check",
        "--json",
        "--registry",
        str(HERE / "registry.toml"),
        "--inbox",
        run["inbox"],
    ]
    if "config" in run:
        cmd += ["--config", str(HERE / run["config"])]
    if "received_at" in run:
        cmd += ["--received-at", run["received_at"]]
    return cmd + [str(f) for f in files]


def _mismatches(run: dict[str, Any], results: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    for m in run["messages"]:
        expected = (m["verdict"], sorted(set(m["rules"])))
        got = results.get(m["file"])
        if got is None:
            problems.append(f"{m['file']}: expected {expected}, got no result  [{m['note']}]")
            continue
        actual = (got["verdict"], sorted({f["rule"] for f in got["findings"]}))
        if actual != expected:
            problems.append(f"{m['file']}: expected {expected}, got {actual}  [{m['note']}]")
        elif got["verdict"] == "rejected" and not all(
            str(f.get("message", "")).strip() for f in got["findings"]
        ):
            problems.append(f"{m['file']}: a finding has no message for the notice: {got['findings']}")
    return problems


@pytest.mark.parametrize("run", RUNS, ids=[r["name"] for r in RUNS])
def test_run_gets_the_expected_verdicts(run: dict[str, Any], tmp_path: Path) -> None:
    build: ModuleType | None = None
    files = []
    for m in run["messages"]:
        path = MESSAGES / m["file"]
        if m.get("generated"):
            build = build or _build_module()
            path = tmp_path / m["file"]
            path.write_bytes(build.oversize_message(m["file"]))
        files.append(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILGATE_")}
    proc = subprocess.run(
        _command(run, files), cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    results = {}
    for line in proc.stdout.splitlines():
        if line.strip():
            record = json.loads(line)
            results[Path(record["file"]).name] = record
    problems = _mismatches(run, results)
    assert proc.returncode == 0, f"run {run['name']}: exit {proc.returncode}\nstderr:\n{proc.stderr[-3000:]}"
    assert not problems, f"run {run['name']}: {len(problems)} mismatch(es)\n" + "\n".join(problems)


def test_manifest_lists_every_message_once() -> None:
    listed = [m["file"] for m in EXPECTED]
    twice = sorted({f for f in listed if listed.count(f) > 1})
    generated = {m["file"] for m in EXPECTED if m.get("generated")}
    on_disk = sorted(p.name for p in MESSAGES.glob("*.eml"))
    assert twice == []
    assert sorted(set(listed) - generated) == on_disk
    assert len(on_disk) >= 60
    assert [p.name for p in MESSAGES.iterdir() if p.stat().st_size > 1_000_000] == []


def test_manifest_covers_every_rule() -> None:
    counts: dict[str, int] = {}
    for m in EXPECTED:
        for rule in m["rules"]:
            counts[rule] = counts.get(rule, 0) + 1
    assert {r for r in REJECT_RULES if counts.get(r, 0) < 2} == set()
    assert {r for r in (*WARN_RULES, *IGNORE_RULES) if counts.get(r, 0) < 1} == set()
    assert set(counts) <= {*REJECT_RULES, *WARN_RULES, *IGNORE_RULES}
    verdicts = [m["verdict"] for m in EXPECTED]
    assert verdicts.count("accepted") >= 20


def test_verdicts_follow_from_the_expected_rules() -> None:
    wrong = []
    for m in EXPECTED:
        rules = set(m["rules"])
        implied = (
            "ignored"
            if rules & set(IGNORE_RULES)
            else "rejected"
            if rules & set(REJECT_RULES)
            else "accepted"
        )
        if implied != m["verdict"]:
            wrong.append(m["file"])
    assert wrong == []


def test_build_is_deterministic(tmp_path: Path) -> None:
    build = _build_module()
    for run in build.runs():
        for case in run.cases:
            if case.raw is not None:
                assert case.raw == (MESSAGES / case.file).read_bytes(), case.file
