"""FileTransport: exact bytes, atomic replacement, before_data order, failures as TransportError."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailgate.errors import PermanentTransportError, TransportError
from mailgate.transports.base import Outgoing
from mailgate.transports.files import FileTransport

RAW = (
    "From: inf@gzy.gov.cn\r\nTo: xxy@th.gz.gov.cn\r\nSubject: =?utf-8?b?5Zue5omn?=\r\n\r\n"
    "您报送的信息已收到。\r\n.\r\n"
).encode()


def outgoing(outbox_id: int = 42, raw: bytes = RAW) -> Outgoing:
    return Outgoing(outbox_id=outbox_id, sender="inf@gzy.gov.cn", recipients=("xxy@th.gz.gov.cn",), raw=raw)


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_writes_exactly_the_raw_bytes_to_a_numbered_file(tmp_path: Path) -> None:
    directory = tmp_path / "var" / "outbox"  # made on demand, parents too
    transport = FileTransport(directory)
    await transport.open()
    await transport.send(outgoing(42))
    await transport.send(outgoing(123456789, raw=b"second"))
    await transport.close()
    assert names(directory) == ["00000042.eml", "123456789.eml"]
    assert (directory / "00000042.eml").read_bytes() == RAW
    assert (directory / "123456789.eml").read_bytes() == b"second"
    assert stat.S_IMODE((directory / "00000042.eml").stat().st_mode) == 0o644


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary())
def test_any_bytes_round_trip_and_a_resend_replaces_the_file(tmp_path: Path, raw: bytes) -> None:
    asyncio.run(FileTransport(tmp_path).send(outgoing(7, raw=raw)))
    assert names(tmp_path) == ["00000007.eml"]
    assert (tmp_path / "00000007.eml").read_bytes() == raw


async def test_before_data_runs_before_anything_is_written(tmp_path: Path) -> None:
    target = tmp_path / "00000042.eml"
    seen: list[tuple[bool, list[str]]] = []

    async def before_data() -> None:
        temporary = [name for name in names(tmp_path) if name != target.name]
        seen.append((target.exists(), temporary))

    await FileTransport(tmp_path).send(outgoing(), before_data=before_data)
    [(existed, temporary)] = seen
    assert not existed
    assert len(temporary) == 1  # the temporary file is open, still empty, and hidden
    assert temporary[0].startswith(".")
    assert target.read_bytes() == RAW
    assert names(tmp_path) == [target.name]


async def test_a_failing_before_data_leaves_nothing_behind(tmp_path: Path) -> None:
    async def before_data() -> None:
        raise RuntimeError("the store is down")

    with pytest.raises(RuntimeError, match="the store is down"):
        await FileTransport(tmp_path).send(outgoing(), before_data=before_data)
    assert names(tmp_path) == []


@pytest.mark.parametrize("blocker", ["outbox", "outbox/sub"])
async def test_an_unwritable_directory_is_a_temporary_failure(tmp_path: Path, blocker: str) -> None:
    (tmp_path / "outbox").write_text("a file where the directory should be")  # root ignores chmod
    called: list[str] = []

    async def before_data() -> None:
        called.append("before_data")

    with pytest.raises(TransportError) as info:
        await FileTransport(tmp_path / blocker).send(outgoing(), before_data=before_data)
    assert not isinstance(info.value, PermanentTransportError)
    assert isinstance(info.value.__cause__, OSError)
    assert "00000042.eml" in str(info.value)
    assert called == []


async def test_the_old_file_stays_whole_when_the_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = FileTransport(tmp_path)
    await transport.send(outgoing(raw=b"first version"))

    def refuse(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(TransportError, match="No space left"):
        await transport.send(outgoing(raw=RAW))
    assert names(tmp_path) == ["00000042.eml"]
    assert (tmp_path / "00000042.eml").read_bytes() == b"first version"
