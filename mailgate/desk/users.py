"""The desk's users: argon2-hashed passwords, roles, session versions, and the parts each role reaches."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.errors import MailgateError
from mailgate.store import Store
from mailgate.store.models import User

#: The roles, from the narrowest to the widest.
ROLES: tuple[str, ...] = ("editor", "ops", "admin")
ROLE_LABELS = {"editor": "编辑", "ops": "运维", "admin": "管理员"}

#: The parts of the desk, and the roles that reach each.
AREAS: dict[str, frozenset[str]] = {
    "queue": frozenset({"editor", "admin"}),  # the intake queue, items, their status
    "log": frozenset({"ops", "admin"}),  # the rejection log, raw messages, replay
    "status": frozenset({"ops", "admin"}),  # the health page
    "registry": frozenset({"admin"}),  # units, officers, commissions
    "users": frozenset({"admin"}),
}

MIN_PASSWORD = 10
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

#: The hasher every function uses (tests may swap in cheaper parameters; hashes then get upgraded).
HASHER = PasswordHasher()
_dummy_hashes: dict[tuple[int, int, int], str] = {}
#: argon2 runs in this thread, never on the event loop: one hash at a time (each uses 64 MiB and, with
#: parallelism 4, every core) leaves the loop and the daemon beside it free however many sign-ins arrive.
_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")
#: Hashes handed to that thread and not done (the one it works on included): beyond these a sign-in
#: is turned away at once rather than queued behind minutes of work.
MAX_PENDING_HASHES = 32
_pending = threading.BoundedSemaphore(MAX_PENDING_HASHES)
_T = TypeVar("_T")


class HashingBusyError(MailgateError):
    """Too many passwords wait to be hashed: nothing was checked, try again in ``retry_after`` seconds."""

    retry_after = 5

    def __init__(self) -> None:
        super().__init__(f"{MAX_PENDING_HASHES} passwords are waiting to be hashed; try again shortly")


class RefusedChangeError(MailgateError):
    """A change that would lock the desk: an admin demoting or deactivating themselves, or the last admin.

    ``args[0]`` is one line in English and Chinese (the CLI's); ``chinese`` is the desk's sentence."""

    def __init__(self, english: str, chinese: str) -> None:
        super().__init__(f"{english}（{chinese}）")
        self.chinese = chinese


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    #: Sessions signed with another version are void (see ``end_sessions``).
    session_version: int = 0

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def may(self, area: str) -> bool:
        return may(self.role, area)


def may(role: str, area: str) -> bool:
    """Whether ``role`` reaches ``area`` of the desk."""
    return role in AREAS.get(area, frozenset())


def normalise_username(username: str) -> str:
    """The username as stored (stripped, case-folded), or ValueError with what to change."""
    name = username.strip().casefold()
    if not _USERNAME.fullmatch(name):
        raise ValueError("用户名只能使用小写字母、数字、点、下划线和连字符，以字母或数字开头，最多 64 个字符")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"角色须为 {'、'.join(ROLES)} 之一")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"密码至少需要 {MIN_PASSWORD} 个字符")
    return password


async def create_user(
    store: Store,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> UserView:
    """Add a user; ValueError for a taken or malformed username, an unknown role or a short password."""
    name = normalise_username(username)
    check_role(role)
    password_hash = await _hash(check_password(password))
    async with store.transaction() as repo:
        if await repo.session.scalar(select(User.id).where(User.username == name)) is not None:
            raise ValueError(f"用户名 {name} 已被使用，请换一个")
        user = User(
            username=name,
            display_name=display_name.strip(),
            password_hash=password_hash,
            role=role,
            active=True,
            session_version=0,
            created_at=clock.now(),
        )
        repo.session.add(user)
        await repo.session.flush()
        return _view(user)


async def authenticate(
    store: Store, username: str, password: str, *, clock: Clock = SYSTEM_CLOCK
) -> UserView | None:
    """The active user with these credentials, else None; upgrades the hash when the parameters changed.

    An unknown or inactive user costs one verification too, so the answer time tells nothing. The hash
    is checked in a worker thread and outside any transaction (SQLite's writer is never held for it)."""
    try:
        name = normalise_username(username)
    except ValueError:
        name = ""
    async with store.reading() as repo:
        found = await repo.session.scalar(select(User).where(User.username == name)) if name else None
    if found is None or not found.active:
        await _verify(await _dummy_hash(), password)
        return None
    if not await _verify(found.password_hash, password):
        return None
    checked = found.password_hash
    upgraded = None
    if HASHER.check_needs_rehash(checked):
        with contextlib.suppress(HashingBusyError):  # upgraded at a quieter sign-in
            upgraded = await _hash(password)
    async with store.transaction() as repo:
        user = await repo.session.get(User, found.id)
        # Changed while the password was being checked: the hash checked is no longer the user's.
        if user is None or not user.active or user.password_hash != checked:
            return None
        if upgraded is not None:
            user.password_hash = upgraded
        user.last_login_at = clock.now()
        return _view(user)


async def get_user(store: Store, user_id: int) -> UserView | None:
    """The user with this id while active (a signed-in session ends when its user is deactivated)."""
    async with store.reading() as repo:
        user = await repo.session.get(User, user_id)
        return _view(user) if user is not None and user.active else None


async def list_users(store: Store) -> list[UserView]:
    async with store.reading() as repo:
        return [_view(u) for u in await repo.session.scalars(select(User).order_by(User.username))]


async def set_password(store: Store, username: str, password: str) -> UserView:
    """A new password; every open session of the user ends."""
    password_hash = await _hash(check_password(password))
    async with store.transaction() as repo:
        user = await _existing(repo.session, username)
        user.password_hash = password_hash
        user.session_version += 1
        return _view(user)


async def set_role(store: Store, username: str, role: str, *, actor: UserView | None = None) -> UserView:
    """A new role; the user's open sessions end. RefusedChangeError when ``actor`` (the admin at the desk,
    None on the command line) is the user, or when no active admin would remain."""
    check_role(role)
    async with store.transaction() as repo:
        admins = await _lock_active_admins(repo.session)
        user = await _existing(repo.session, username)
        if user.role == role:
            return _view(user)
        _refuse_self(user, actor)
        if role != "admin" and admins == [user.id]:
            raise _last_admin()
        user.role = role
        user.session_version += 1
        return _view(user)


async def deactivate(store: Store, username: str, *, actor: UserView | None = None) -> UserView:
    """The user can no longer sign in, and their open sessions end; refused as ``set_role`` is."""
    async with store.transaction() as repo:
        admins = await _lock_active_admins(repo.session)
        user = await _existing(repo.session, username)
        if not user.active:
            return _view(user)
        _refuse_self(user, actor)
        if admins == [user.id]:
            raise _last_admin()
        user.active = False
        user.session_version += 1
        return _view(user)


async def reactivate(store: Store, username: str) -> UserView:
    """The user may sign in again (with their old password); sessions from before stay void."""
    async with store.transaction() as repo:
        user = await _existing(repo.session, username)
        if not user.active:
            user.active = True
            user.session_version += 1
        return _view(user)


async def end_sessions(store: Store, user_id: int) -> None:
    """Void every session of the user (signing out): a copied cookie dies with the one signed out."""
    async with store.transaction() as repo:
        user = await repo.session.get(User, user_id)
        if user is not None:
            user.session_version += 1


def _last_admin() -> RefusedChangeError:
    return RefusedChangeError(
        "refused: the desk would be left without an active admin",
        "这样操作后将没有启用的管理员：请先把另一位用户设为管理员",
    )


def _refuse_self(user: User, actor: UserView | None) -> None:
    if actor is not None and actor.id == user.id:
        raise RefusedChangeError(
            "refused: admins cannot change their own role or deactivate themselves",
            "不能更改自己的角色或停用自己的账号，请让另一位管理员操作",
        )


async def _lock_active_admins(session: AsyncSession) -> list[int]:
    """The active admins' ids, locked until the transaction ends (PostgreSQL; SQLite has one writer), so
    two admins demoting each other at the same moment cannot both succeed."""
    query = select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id)
    return list(await session.scalars(query.with_for_update()))


async def _existing(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise ValueError(f"没有用户 {username.strip()}")
    return user


async def _hash(password: str) -> str:
    return await _in_worker(HASHER.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    return await _in_worker(_check, HASHER, password_hash, password)


async def _in_worker(work: Callable[..., _T], *args: object) -> _T:
    """``work(*args)`` in the argon2 thread; ``HashingBusyError`` at once when too many wait for it."""
    if not _pending.acquire(blocking=False):
        raise HashingBusyError
    try:
        future: Future[_T] = _HASHING.submit(work, *args)
    except BaseException:
        _pending.release()
        raise
    # Released when the thread is done with it, or when it is cancelled before the thread began it:
    # a caller that gave up does not free a place the thread is still using.
    future.add_done_callback(lambda _: _pending.release())
    return await asyncio.wrap_future(future)


def _check(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def _dummy_hash() -> str:
    """A hash of nothing anyone knows, made with the current parameters (so it costs the same)."""
    key = (HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = await _hash("mailgate: no such user")
    return _dummy_hashes[key]


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        session_version=user.session_version,
    )
