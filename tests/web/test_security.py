"""The desk under attack: hashing off the event loop, capped bodies, throttled sign-ins, and error pages
that say what went wrong in Chinese without quoting the request."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import tomllib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from messages import REGISTRY
from pydantic import BaseModel
from starlette.applications import Starlette

from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.desk import users
from mailgate.registry import registry_from_mapping
from mailgate.store import Store
from mailgate.store.registry import load_registry, replace_registry
from mailgate.web import create_app
from mailgate.web._security import BODY_LIMIT, LoginLimits, LoginThrottle
from web.conftest import PASSWORD, SECRET, Client

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
CHEAP = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def people(store: Store) -> Store:
    """The store with one user per role (named after it) and the test registry."""
    await replace_registry(store, registry_from_mapping(tomllib.loads(REGISTRY)))
    for role in users.ROLES:
        await users.create_user(store, role, PASSWORD, role)
    return store


def app_over(store: Store, clock: FrozenClock, **kwargs: Any) -> Starlette:
    return create_app(Settings(), store, secret_key=SECRET, clock=clock, **kwargs)


@pytest.fixture
async def browsers(people: Store, clock: FrozenClock) -> AsyncIterator[Any]:
    """Makes clients of one app on a frozen clock, from the given client address."""
    app = app_over(people, clock)
    made: list[Client] = []

    def make(address: str = "192.0.2.1", target: Starlette = app) -> Client:
        client = Client(target)
        client.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=target, client=(address, 40000)), base_url="http://testserver"
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.http.aclose()


# --- argon2 off the event loop -------------------------------------------------------------------


class GatedHasher(PasswordHasher):
    """Verifies only once the test opens the gate (or after 10 s), recording whether it was opened."""

    def __init__(self) -> None:
        super().__init__(**CHEAP)
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.opened: list[bool] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.entered.set()
        self.opened.append(self.gate.wait(10))
        return super().verify(hash, password)


async def test_a_password_being_checked_does_not_stop_other_pages(
    browsers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = GatedHasher()
    monkeypatch.setattr(users, "HASHER", hasher)
    guesser, other = browsers(), browsers("192.0.2.2")
    token = await guesser.token()
    form = {"username": "editor", "password": "wrong password"}
    guess = asyncio.create_task(guesser.post("/login", form, token=token))
    assert await asyncio.to_thread(hasher.entered.wait, 10)
    page = await other.get("/login")  # served while the verification is still stuck in its thread
    assert page.status_code == 200
    hasher.gate.set()
    assert (await guess).status_code == 401
    assert hasher.opened == [True]  # the gate was opened by the test, not by the time-out


# --- request bodies capped before parsing -----------------------------------------------------------


class Body:
    """A request body streamed in chunks, counting what the server pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += self.chunk
            yield b"a" * self.chunk


async def test_a_huge_declared_body_is_refused_before_a_byte_is_read(browsers: Any) -> None:
    anonymous, admin = browsers(), browsers()
    assert (await admin.login("admin")).status_code == 303
    huge = str(1536 * 1024 * 1024)
    for client, path, kind in (
        (anonymous, "/login", "multipart/form-data; boundary=x"),
        (admin, "/registry/import", "multipart/form-data; boundary=x"),
        (admin, "/users", "application/x-www-form-urlencoded"),
    ):
        body = Body(int(huge))
        response = await client.http.post(
            path, content=body, headers={"content-type": kind, "content-length": huge}
        )
        assert response.status_code == 413, path
        assert "内容过大" in response.text
        assert body.pulled == 0, path
    body = Body(int(huge))
    sent = await anonymous.http.post("/users", content=body, headers={"content-length": huge})
    assert sent.status_code == 303  # to the sign-in: a stranger's body is never read at all
    assert body.pulled == 0


async def test_a_streamed_body_is_cut_off_at_the_limit(browsers: Any) -> None:
    admin = browsers()
    assert (await admin.login("admin")).status_code == 303
    body = Body(100 * 1024 * 1024)
    response = await admin.http.post(
        "/users", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert f"超过了 {BODY_LIMIT // 1024} KB 的上限" in response.text
    assert body.pulled <= BODY_LIMIT + body.chunk
    assert (await admin.get("/users")).status_code == 200  # still signed in


async def test_url_encoded_noise_over_the_limit_is_refused_and_small_forms_pass(browsers: Any) -> None:
    anonymous = browsers()
    token = await anonymous.token()
    noise = await anonymous.post("/login", {"username": "admin", "password": "x", "junk": "a&b=" * 80_000})
    assert noise.status_code == 413
    signed_in = await anonymous.post(
        "/login", {"username": "admin", "password": PASSWORD, "junk": "a" * 100_000}, token=token
    )
    assert signed_in.status_code == 303


async def test_only_the_registry_upload_takes_a_file_of_a_megabyte(browsers: Any, people: Store) -> None:
    admin = browsers()
    assert (await admin.login("admin")).status_code == 303
    padding = "# 注释\n" * (1024 * 1024 // 9)
    big = (REGISTRY + padding).encode()
    assert BODY_LIMIT < len(big) < 2 * 1024 * 1024
    imported = await _upload(admin, big)
    assert imported.status_code == 303
    assert imported.headers["location"] == "/registry"
    elsewhere = await admin.post("/users", {"username": "x", "note": padding})
    assert elsewhere.status_code == 413
    too_big = await _upload(admin, b"#" * (3 * 1024 * 1024))
    assert too_big.status_code == 413


async def _upload(client: Client, data: bytes, name: str = "registry.toml") -> httpx.Response:
    return await client.http.post(
        "/registry/import",
        files={"file": (name, data, "application/toml")},
        data={"csrf_token": await client.token()},
    )


# --- failed sign-ins throttled ----------------------------------------------------------------------


async def test_five_wrong_passwords_lock_the_user_name_for_fifteen_minutes(
    browsers: Any, clock: FrozenClock
) -> None:
    guesser = browsers()
    for n in range(5):
        assert (await guesser.login("editor", f"guess number {n}")).status_code == 401
    clock.advance(dt.timedelta(minutes=5))
    for name in ("editor", "EDITOR", " Editor "):
        locked = await guesser.login(name)  # the right password, in any case
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == str(10 * 60)
        assert "登录失败次数过多" in locked.text
        assert "请 10 分钟后再试" in locked.text
    elsewhere = browsers("198.51.100.7")
    assert (await elsewhere.login("editor")).status_code == 429  # the name is locked, not the address
    assert (await elsewhere.login("ops")).status_code == 303
    clock.advance(dt.timedelta(minutes=10))
    assert (await guesser.login("editor")).status_code == 303
    assert (await guesser.get("/queue")).status_code == 200


async def test_a_success_clears_the_users_count(browsers: Any) -> None:
    browser = browsers()
    for _ in range(4):
        assert (await browser.login("ops", "not it at all")).status_code == 401
    assert (await browser.login("ops")).status_code == 303
    await browser.post("/logout")
    for _ in range(4):
        assert (await browser.login("ops", "not it at all")).status_code == 401
    assert (await browser.login("ops")).status_code == 303


async def test_twenty_failures_from_one_address_lock_that_address(browsers: Any, clock: FrozenClock) -> None:
    sprayer = browsers("203.0.113.9")
    for n in range(20):
        assert (await sprayer.login(f"guess{n % 4}", "password123")).status_code == 401
    refused = await sprayer.login("admin")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) == 15 * 60
    assert (await browsers("203.0.113.10").login("admin")).status_code == 303
    clock.advance(dt.timedelta(minutes=15, seconds=1))
    assert (await sprayer.login("admin")).status_code == 303


async def test_parallel_guesses_cannot_slip_past_the_limit(
    browsers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Counting(PasswordHasher):
        checked = 0

        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            Counting.checked += 1
            return super().verify(hash, password)

    monkeypatch.setattr(users, "HASHER", Counting(**CHEAP))
    guessers = [browsers() for _ in range(12)]
    tokens = [await g.token() for g in guessers]
    answers = await asyncio.gather(
        *(
            g.post("/login", {"username": "admin", "password": f"parallel guess {n}"}, token=t)
            for n, (g, t) in enumerate(zip(guessers, tokens, strict=True))
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [401] * 5 + [429] * 7
    assert Counting.checked == 5


async def test_the_limits_can_be_set_when_building_the_desk(
    people: Store, clock: FrozenClock, browsers: Any
) -> None:
    app = app_over(people, clock, login_limits=LoginLimits(per_user=2, window=dt.timedelta(minutes=1)))
    browser = browsers(target=app)
    for _ in range(2):
        assert (await browser.login("editor", "wrong wrong")).status_code == 401
    assert (await browser.login("editor")).status_code == 429
    clock.advance(dt.timedelta(minutes=1))
    assert (await browser.login("editor")).status_code == 303


# --- registry uploads of the wrong shape ------------------------------------------------------------

WRONG_SHAPES = [
    (b"units = 5", "units 须为表数组"),
    (b'units = "x"', "units 须为表数组"),
    (b"units = [1]", "第 1 个单位（[[units]]）须为表"),
    (b"[units]\nid = 'a'", "units 须为表数组"),
    (
        b"[[units]]\nid = 'a'\nname = 'b'\nseries = 'county'",
        "第 1 个单位（[[units]]）的 序列 series 须为 district",
    ),
    (b"[[units]]\nid = 1\nname = 'b'\nseries = 'district'", "标识 id 须为字符串"),
    (b"[[units]]\nname = 'b'\nseries = 'district'", "缺少必填字段 标识 id"),
    (b"[[units]]\nid = 'a'\nname = 'b'\nseries = 'district'\naliases = 'q'", "别名 aliases 须为字符串数组"),
    (b"[[units]]\nid = 'a'\nname = 'b'\nseries = 'district'\ncolour = 'red'", "有未知字段 colour"),
    (b"[[units]]\nid = 'a'\nname = ''\nseries = 'district'", "全称 name 不能为空"),
    (
        b"[[units]]\nid='a'\nname='b'\nseries='district'\n[[officers]]\nemail='x'\nname='n'\nunit='a'",
        "第 1 名信息员（[[officers]]）的 电子邮箱 email 不是电子邮件地址",
    ),
    (
        b"[[units]]\nid='a'\nname='b'\nseries='district'\n[[officers]]\nemail='x@a.cn'\nname='n'\nunit='a'\n"
        b"phone=20",
        "联系电话 phone 须为字符串",
    ),
    (
        b"[[units]]\nid='a'\nname='b'\nseries='district'\n[[officers]]\nemail='x@a.cn'\nname='n'\nunit='a'\n"
        b"active='maybe'",
        "状态 active 须为 true 或 false",
    ),
    (b"officers = [{email = 'a@b.cn', name = 'x', unit = 'nope'}]", "第 1 名信息员的单位 unit 不是名单中"),
    (
        b"units = [{id='a', name='b', series='district'}, {id='a', name='c', series='district'}]",
        "第 2 个单位的标识 id 与第 1 个单位重复",
    ),
    (b"[[units]]\nid='a'\nname='b'\nseries='direct'\nparent='z'", "上级单位 parent 不是名单中"),
    (b"title = 'x'", "有未知的键或表 title"),
    (b"\xff\xfeu\x00n\x00", "不是 UTF-8 编码的文本（第 1 个字节无法解码）"),
    (b"[[units]\nid = ", "不是有效的 TOML：第 1 行第"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是 UTF-8"),
    (b"just some words", "不是有效的 TOML"),
]


async def test_a_registry_of_the_wrong_shape_is_refused_naming_the_field(
    browsers: Any, people: Store
) -> None:
    admin = browsers()
    assert (await admin.login("admin")).status_code == 303
    for data, message in WRONG_SHAPES:
        response = await _upload(admin, data)
        assert response.status_code == 400, data
        assert "导入失败，登记名单未改动" in response.text
        assert message in response.text, (data, response.text)
        assert 'href="/registry"' in response.text
        for leak in ("pydantic", "validation error", "input_value", "Traceback", "Input should"):
            assert leak not in response.text, data
    assert len((await load_registry(people)).units) == 2


async def test_a_registry_in_utf8_with_a_byte_order_mark_is_imported(browsers: Any) -> None:
    admin = browsers()
    assert (await admin.login("admin")).status_code == 303
    imported = await _upload(admin, b"\xef\xbb\xbf" + REGISTRY.replace("张三", "张三丰").encode())
    assert imported.status_code == 303
    assert "已导入 2 个单位、2 名信息员" in (await admin.get("/registry")).text
    assert "张三丰" in (await admin.get("/registry")).text


# --- no error becomes a traceback, no page quotes the request ---------------------------------------


class _Shape(BaseModel):
    count: int


async def test_a_stray_validation_error_answers_400_with_the_desks_page(
    browsers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(store: Store) -> list[users.UserView]:
        _Shape.model_validate({"count": "SECRET-INPUT-VALUE"})
        raise AssertionError("unreachable")

    monkeypatch.setattr(users, "list_users", broken)
    admin = browsers()
    assert (await admin.login("admin")).status_code == 303
    response = await admin.get("/users")
    assert response.status_code == 400
    assert "请求有误" in response.text
    assert "admin（管理员）" in response.text  # the desk's page, still signed in
    assert "SECRET-INPUT-VALUE" not in response.text
    assert "Input should" not in response.text


async def test_a_malformed_multipart_body_is_refused_in_chinese_without_the_parsers_words(
    browsers: Any,
) -> None:
    admin = browsers()
    assert (await admin.login("admin")).status_code == 303
    body = b"--zz\r\nContent-Disposition: form-data; name*=UTF-8''%ff\r\n\r\nSECRET\r\n--zz--\r\n"
    for kind in (
        "multipart/form-data; boundary=zz",
        "multipart/form-data",
        "multipart/form-data; boundary=" + "z" * 90,
    ):
        response = await admin.http.post("/users", content=body, headers={"content-type": kind})
        assert response.status_code == 400, kind
        assert "提交的内容格式有误" in response.text
        for leak in ("Content-Disposition", "multipart", "SECRET", "boundary"):
            assert leak not in response.text.split("<main", 1)[-1], (kind, leak)


async def test_an_unexpected_error_is_a_page_of_the_desk_without_the_traceback(
    people: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(store: Store) -> list[users.UserView]:
        raise RuntimeError("SELECT secret FROM messages -- SECRET-PARAMETER")

    app = app_over(people, clock)
    client = Client(app)
    client.http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
    )
    try:
        assert (await client.login("admin")).status_code == 303
        monkeypatch.setattr(users, "list_users", broken)
        response = await client.get("/users")
    finally:
        await client.http.aclose()
    assert response.status_code == 500
    assert "服务器出错" in response.text
    assert "SECRET" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


# --- the desk's clock -----------------------------------------------------------------------------


async def test_users_and_commissions_are_dated_by_the_desks_clock(
    browsers: Any, people: Store, clock: FrozenClock
) -> None:
    admin = browsers()
    assert (await admin.login("admin")).status_code == 303
    form = {"username": "zhou", "role": "editor", "password": "x" * 12, "password2": "x" * 12}
    assert (await admin.post("/users", form)).status_code == 303
    clock.advance(dt.timedelta(days=3))
    assert (await browsers().login("zhou", "x" * 12)).status_code == 303
    zhou = next(u for u in await users.list_users(people) if u.username == "zhou")
    assert zhou.created_at == NOW
    assert zhou.last_login_at == NOW + dt.timedelta(days=3)
    listing = await admin.get("/users")
    assert "2026-11-29 10:00" in listing.text  # the sign-in, in the units' zone
    added = await admin.post(
        "/commissions", {"code": "K1", "topic": "冬季", "deadline": "2026-12-01"}, follow_redirects=True
    )
    assert "征集中" in added.text
    clock.set(dt.datetime(2026, 12, 2, tzinfo=dt.UTC))
    assert "已截止" in (await admin.get("/commissions")).text


# --- floods of sign-ins -------------------------------------------------------------------------------


def _attempt(throttle: LoginThrottle, username: str, address: str) -> bool:
    """One sign-in as the desk makes it: refused while throttled, else counted as failed."""
    if throttle.wait(username, address):
        return False
    throttle.begin(username, address)
    return True


def test_made_up_names_from_rotating_ipv6_addresses_cannot_evict_a_users_count(clock: FrozenClock) -> None:
    throttle = LoginThrottle(clock)
    for _ in range(4):
        assert _attempt(throttle, "admin", "192.0.2.1")
    # One client of one /64 rotates through its addresses, a made-up name each time.
    sprayed = sum(
        _attempt(throttle, f"nobody{n}", f"2001:db8:7:9:{n >> 16 & 0xFFFF:x}:{n & 0xFFFF:x}::1")
        for n in range(3 * LoginThrottle.MAX_KEYS)
    )
    assert sprayed == LoginLimits().per_address  # the /64 is one address to the throttle
    assert _attempt(throttle, "admin", "198.51.100.1")  # the fifth failure still counts as the fifth
    assert throttle.wait("admin", "198.51.100.2") == 15 * 60
    assert throttle.wait("someone", "2001:db8:7:10::1") == 0  # the next /64 is another client
    assert throttle.wait("someone", "::ffff:192.0.2.1") == 0  # IPv4 in IPv6 clothing is the IPv4 address


def test_past_its_size_the_throttle_forgets_expired_entries_before_live_ones(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LoginThrottle, "MAX_KEYS", 50)
    throttle = LoginThrottle(clock, LoginLimits(per_user=1, per_address=1000))
    for n in range(20):  # 40 names and addresses whose failures leave the window
        assert _attempt(throttle, f"old{n}", f"192.0.2.{n}")
    clock.advance(dt.timedelta(minutes=20))
    assert _attempt(throttle, "admin", "198.51.100.1")
    for n in range(12):  # live ones, pushing the throttle past its size
        assert _attempt(throttle, f"new{n}", f"203.0.113.{n}")
    for name in ("admin", *(f"new{n}" for n in range(12))):
        assert throttle.wait(name, "198.51.100.9") > 0, name  # every live count kept


async def test_past_the_waiting_hashes_a_sign_in_is_turned_away_with_429(
    people: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, browsers: Any
) -> None:
    hasher = GatedHasher()
    monkeypatch.setattr(users, "HASHER", hasher)
    app = app_over(people, clock, login_limits=LoginLimits(per_user=1000, per_address=1000))
    extra = 8
    guessers = [browsers(f"192.0.2.{n + 1}", app) for n in range(users.MAX_PENDING_HASHES + extra)]
    tokens = [await g.token() for g in guessers]
    form = {"username": "editor", "password": "wrong password"}
    pending = {
        asyncio.create_task(g.post("/login", form, token=t)) for g, t in zip(guessers, tokens, strict=True)
    }
    turned_away: list[httpx.Response] = []
    while len(turned_away) < extra:
        done, pending = await asyncio.wait(pending, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        assert done, "the sign-ins beyond the bound were not answered while the thread was busy"
        turned_away += [task.result() for task in done]
    for response in turned_away:
        assert response.status_code == 429
        assert response.headers["retry-after"] == str(users.HashingBusyError.retry_after)
        assert "系统正忙于核对其他登录请求" in response.text
    hasher.gate.set()
    checked = await asyncio.gather(*pending)
    assert [r.status_code for r in checked] == [401] * users.MAX_PENDING_HASHES
    assert hasher.opened.count(True) == users.MAX_PENDING_HASHES
    assert (await browsers("192.0.2.250", app).login("editor")).status_code == 303  # every place freed
