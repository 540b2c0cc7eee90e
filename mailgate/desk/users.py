"""The desk's users: argon2-hashed passwords, roles, and which parts of the desk each role reaches."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def may(self, area: str) -> bool:
        return may(self.role, area)


def may(role: str, area: str) -> bool:
    """Whether ``role`` reaches ``area`` of the desk."""
    return role in AREAS.get(area, frozenset())


def normalise_username(username: str) -> str:
    """The username as stored (lower case), or ValueError with what to change."""
    name = username.strip().lower()
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
    store: Store, username: str, password: str, role: str, display_name: str = ""
) -> UserView:
    """Add a user; ValueError for a taken or malformed username, an unknown role or a short password."""
    name = normalise_username(username)
    check_role(role)
    password_hash = HASHER.hash(check_password(password))
    async with store.transaction() as repo:
        if await repo.session.scalar(select(User.id).where(User.username == name)) is not None:
            raise ValueError(f"用户名 {name} 已被使用，请换一个")
        user = User(
            username=name,
            display_name=display_name.strip(),
            password_hash=password_hash,
            role=role,
            active=True,
            created_at=dt.datetime.now(dt.UTC),
        )
        repo.session.add(user)
        await repo.session.flush()
        return _view(user)


async def authenticate(store: Store, username: str, password: str) -> UserView | None:
    """The active user with these credentials, else None; upgrades the hash when the parameters changed.

    An unknown or inactive user costs one verification too, so the answer time tells nothing."""
    try:
        name = normalise_username(username)
    except ValueError:
        name = ""
    async with store.transaction() as repo:
        user = await repo.session.scalar(select(User).where(User.username == name)) if name else None
        if user is None or not user.active:
            _verify(_dummy_hash(), password)
            return None
        if not _verify(user.password_hash, password):
            return None
        if HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = HASHER.hash(password)
        user.last_login_at = dt.datetime.now(dt.UTC)
        return _view(user)


async def get_user(store: Store, user_id: int) -> UserView | None:
    """The user with this id while active (a signed-in session ends when its user is deactivated)."""
    async with store.transaction() as repo:
        user = await repo.session.get(User, user_id)
        return _view(user) if user is not None and user.active else None


async def list_users(store: Store) -> list[UserView]:
    async with store.transaction() as repo:
        return [_view(u) for u in await repo.session.scalars(select(User).order_by(User.username))]


async def set_password(store: Store, username: str, password: str) -> None:
    password_hash = HASHER.hash(check_password(password))
    async with store.transaction() as repo:
        (await _existing(repo.session, username)).password_hash = password_hash


async def set_role(store: Store, username: str, role: str) -> None:
    check_role(role)
    async with store.transaction() as repo:
        (await _existing(repo.session, username)).role = role


async def deactivate(store: Store, username: str) -> None:
    """The user can no longer sign in, and their open sessions end."""
    async with store.transaction() as repo:
        (await _existing(repo.session, username)).active = False


async def _existing(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise ValueError(f"没有用户 {username}")
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    """A hash of nothing anyone knows, made with the current parameters (so it costs the same)."""
    key = (HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = HASHER.hash("mailgate: no such user")
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
    )
