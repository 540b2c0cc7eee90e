"""Desk users: argon2 hashes upgraded on sign-in, equal work for unknown users, roles and their areas."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from mailgate.desk import users
from mailgate.store import Store
from mailgate.store.models import User

PASSWORD = "correct horse battery"


class CountingHasher(PasswordHasher):
    def __init__(self, **kwargs: int) -> None:
        super().__init__(**kwargs)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


async def _hash_of(store: Store, username: str) -> str:
    async with store.transaction() as repo:
        found = await repo.session.scalar(select(User.password_hash).where(User.username == username))
    assert found is not None
    return found


async def test_passwords_are_stored_as_argon2_hashes_and_checked(store: Store) -> None:
    created = await users.create_user(store, " Editor ", PASSWORD, "editor", "李编辑")
    assert created.username == "editor"
    stored = await _hash_of(store, "editor")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    signed_in = await users.authenticate(store, "EDITOR", PASSWORD)
    assert signed_in is not None
    assert signed_in.last_login_at is not None
    assert await users.authenticate(store, "editor", PASSWORD + "x") is None
    await users.set_password(store, "editor", "another long password")
    assert await users.authenticate(store, "editor", PASSWORD) is None
    assert await users.authenticate(store, "editor", "another long password") is not None


async def test_a_hash_made_with_old_parameters_is_upgraded_at_the_next_sign_in(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    await users.create_user(store, "ops", PASSWORD, "ops")
    assert ",t=1," in await _hash_of(store, "ops")
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=2, memory_cost=128, parallelism=1))
    assert await users.authenticate(store, "ops", "wrong password!") is None
    assert ",t=1," in await _hash_of(store, "ops")  # only a correct password upgrades
    assert await users.authenticate(store, "ops", PASSWORD) is not None
    upgraded = await _hash_of(store, "ops")
    assert "m=128,t=2," in upgraded
    assert await users.authenticate(store, "ops", PASSWORD) is not None


async def test_unknown_and_deactivated_users_cost_one_verification_too(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = CountingHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(users, "HASHER", hasher)
    await users.create_user(store, "admin", PASSWORD, "admin")
    await users.create_user(store, "gone", PASSWORD, "editor")
    await users.deactivate(store, "gone")
    for username in ("nobody", "gone", "admin", "not a valid name!"):
        before = hasher.verified
        result = await users.authenticate(store, username, PASSWORD)
        assert hasher.verified == before + 1, username
        assert (result is not None) is (username == "admin")


async def test_bad_users_are_refused_with_what_to_change(store: Store) -> None:
    await users.create_user(store, "editor", PASSWORD, "editor")
    cases = [
        (("editor", PASSWORD, "editor"), "已被使用"),
        (("new", PASSWORD, "boss"), "角色须为"),
        (("new", "short", "editor"), "至少需要"),
        (("-bad name", PASSWORD, "editor"), "用户名只能使用"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            await users.create_user(store, *args)
    with pytest.raises(ValueError, match="没有用户"):
        await users.set_role(store, "ghost", "admin")
    assert [u.username for u in await users.list_users(store)] == ["editor"]


async def test_roles_change_and_deactivated_users_vanish_from_sessions(store: Store) -> None:
    user = await users.create_user(store, "li", PASSWORD, "editor")
    await users.set_role(store, "li", "ops")
    again = await users.get_user(store, user.id)
    assert again is not None
    assert again.role == "ops"
    await users.deactivate(store, "li")
    assert await users.get_user(store, user.id) is None
    assert [(u.username, u.active) for u in await users.list_users(store)] == [("li", False)]


def test_each_role_reaches_its_own_areas() -> None:
    reach = {role: {area for area in users.AREAS if users.may(role, area)} for role in users.ROLES}
    assert reach == {
        "editor": {"queue"},
        "ops": {"log", "status"},
        "admin": {"queue", "log", "status", "registry", "users"},
    }
    assert not users.may("editor", "no such area")
