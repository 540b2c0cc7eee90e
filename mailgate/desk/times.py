"""Time at the desk: the units' zone, whole days there as instants, and arrival against processing."""

from __future__ import annotations

import datetime as dt

#: Arrival and processing further apart than this are both shown (a backlog, a replay, a late fetch).
PROCESSING_GAP = dt.timedelta(minutes=1)
#: What readers call the zones they know by another name.
_LOCAL_NAMES = {
    "Asia/Shanghai": "北京时间",
    "Asia/Chongqing": "北京时间",
    "Asia/Harbin": "北京时间",
    "Asia/Urumqi": "乌鲁木齐时间",
    "Asia/Hong_Kong": "香港时间",
    "Asia/Macau": "澳门时间",
    "Asia/Taipei": "台北时间",
    "UTC": "协调世界时",
    "Etc/UTC": "协调世界时",
}


def zone_key(zone: dt.tzinfo) -> str:
    """The zone's IANA name (``Asia/Shanghai``), or what it calls itself."""
    key = getattr(zone, "key", None)
    return key if isinstance(key, str) else (zone.tzname(None) or str(zone))


def zone_note(zone: dt.tzinfo) -> str:
    """The sentence a page or table of times says once: ``时间均为北京时间（Asia/Shanghai）``."""
    key = zone_key(zone)
    local = _LOCAL_NAMES.get(key)
    return f"时间均为{local}（{key}）" if local else f"时间均为 {key} 时区的时间"


def day_start(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The instant (UTC) ``day`` begins in ``zone``; ValueError for a day too early or too late for that."""
    try:
        return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"day out of range: {day.isoformat()}") from exc


def day_range(
    since: dt.date | None, until: dt.date | None, zone: dt.tzinfo | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The instants [start, end) covering the days ``since`` to ``until`` (inclusive) in ``zone``.

    ValueError for a day out of range, or for days without a zone to read them in."""
    if zone is None:
        if since is None and until is None:
            return None, None
        raise ValueError("days need the units' time zone")
    start = day_start(since, zone) if since is not None else None
    end = None
    if until is not None:
        try:
            following = until + dt.timedelta(days=1)
        except OverflowError as exc:
            raise ValueError(f"day out of range: {until.isoformat()}") from exc
        end = day_start(following, zone)
    return start, end


def check_day(day: dt.date, zone: dt.tzinfo) -> dt.date:
    """``day`` when it can begin and end a period in ``zone`` (else ValueError)."""
    day_range(day, day, zone)
    return day


def processed_apart(received: dt.datetime | None, processed: dt.datetime | None) -> dt.datetime | None:
    """``processed`` when it is more than ``PROCESSING_GAP`` away from ``received`` (else None)."""
    if received is None or processed is None or abs(processed - received) <= PROCESSING_GAP:
        return None
    return processed
