"""The admin pages: the registry of units and officers, commissions, and the desk's users."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailgate.desk import users
from mailgate.desk.users import ROLES, RefusedChangeError, UserView
from mailgate.errors import RegistryError
from mailgate.registry import Officer, Registry, Series, Unit, dump_registry
from mailgate.store.registry import (
    CODE_LENGTH,
    DEADLINE_YEARS,
    DuplicateCommissionError,
    InvalidCommissionError,
    add_commission,
    commissions,
    load_registry,
    replace_registry,
)
from mailgate.web._base import (
    MAX_PART,
    action,
    desk,
    error_page,
    field,
    flash,
    not_found,
    render,
    start_session,
    view,
)
from mailgate.web._queue import SERIES_LABELS


async def registry_page(request: Request, user: UserView) -> Response:
    state = desk(request)
    registry = await load_registry(state.store)
    context = {
        "units": sorted(registry.units.values(), key=lambda u: (u.series.value, u.id)),
        "officers": sorted(registry.officers.values(), key=lambda o: (o.unit, o.email)),
        "series_labels": SERIES_LABELS,
        "registry_file": state.settings.registry_file,
    }
    return render(request, "registry.html", context, user=user)


async def registry_export(request: Request, user: UserView) -> Response:
    registry = await load_registry(desk(request).store)
    return Response(
        dump_registry(registry),
        media_type="application/toml; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="registry.toml"'},
    )


async def registry_import(request: Request, user: UserView, form: FormData) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        flash(request, "请选择要导入的 TOML 文件。", "error")
        return RedirectResponse("/registry", status_code=303)
    try:
        registry = read_registry_upload(await upload.read(MAX_PART + 1))
    except RegistryError as exc:
        reason = f"导入失败，登记名单未改动：{exc}。请修改文件后重新上传。"
        return error_page(request, user, 400, "导入失败", reason, back="/registry")
    await replace_registry(desk(request).store, registry)
    flash(request, f"已导入 {len(registry.units)} 个单位、{len(registry.officers)} 名信息员。")
    return RedirectResponse("/registry", status_code=303)


#: The registry's fields as the page names them.
_FIELDS = {
    "units": {
        "id": "标识 id",
        "name": "全称 name",
        "aliases": "别名 aliases",
        "series": "序列 series",
        "parent": "上级单位 parent",
    },
    "officers": {
        "email": "电子邮箱 email",
        "name": "姓名 name",
        "unit": "单位 unit",
        "phone": "联系电话 phone",
        "title": "职务 title",
        "active": "状态 active",
    },
}
_ENTRIES = {"units": "个单位（[[units]]）", "officers": "名信息员（[[officers]]）"}
_MODELS: dict[str, type[Unit] | type[Officer]] = {"units": Unit, "officers": Officer}
#: Problems reported at most, so that the page stays readable.
_MAX_PROBLEMS = 5
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_registry_upload(data: bytes) -> Registry:
    """An uploaded registry file, or RegistryError with what to change in Chinese, naming each wrong
    field by its position (never the parser's own message, never the file's content)."""
    if len(data) > MAX_PART:
        raise RegistryError(f"文件超过 {MAX_PART // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryError(
            f"文件不是 UTF-8 编码的文本（第 {exc.start + 1} 个字节无法解码），请另存为 UTF-8 后上传"
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = _TOML_AT.search(str(exc))
        where = f"第 {at.group(1)} 行第 {at.group(2)} 列附近" if at else "文件末尾"
        raise RegistryError(f"文件不是有效的 TOML：{where}有语法错误") from None
    problems: list[str] = []
    unknown = sorted(set(document) - set(_FIELDS))
    if unknown:
        problems.append(f"有未知的键或表 {_name(unknown[0])}：名单只能有 [[units]] 和 [[officers]]")
    parsed: dict[str, list[Any]] = {"units": [], "officers": []}
    for table, model in _MODELS.items():
        entries = document.get(table, [])
        if not isinstance(entries, list):
            problems.append(f"{table} 须为表数组，每一项写作 [[{table}]]")
            continue
        for number, entry in enumerate(entries, 1):
            where = f"第 {number} {_ENTRIES[table]}"
            if not isinstance(entry, dict):
                problems.append(f"{where}须为表，写作 [[{table}]] 下的“键 = 值”")
                continue
            try:
                parsed[table].append(model.model_validate(entry))
            except ValidationError as exc:
                problems.extend(f"{where}{_problem(table, error)}" for error in exc.errors())
    if not problems:
        problems = _conflicts(parsed["units"], parsed["officers"])
    if problems:
        raise RegistryError(
            "；".join(problems[:_MAX_PROBLEMS]) + ("等" if len(problems) > _MAX_PROBLEMS else "")
        )
    try:
        return Registry(parsed["units"], parsed["officers"])
    except RegistryError:
        raise RegistryError("单位或信息员之间有冲突，请检查标识、上级单位和电子邮箱") from None


def _name(key: object) -> str:
    text = str(key)
    return text if len(text) <= 40 else text[:40] + "…"


def _problem(table: str, error: ErrorDetails) -> str:
    """One validation error in Chinese, naming the field (pydantic's own text never reaches the page)."""
    loc = error["loc"]
    key = str(loc[0]) if loc else ""
    name = _FIELDS[table].get(key, key)
    kind = error["type"]
    if kind == "missing":
        return f"缺少必填字段 {name}"
    if kind == "extra_forbidden":
        return f"有未知字段 {_name(key)}"
    if kind == "enum":
        return f"的 {name} 须为 {'、'.join(s.value for s in Series)} 之一"
    if key == "aliases":
        return f'的 {name} 须为字符串数组，如 ["某某办"]'
    if kind.startswith("bool"):
        return f"的 {name} 须为 true 或 false"
    if key == "email":
        return f"的 {name} 不是电子邮件地址"
    if kind == "string_too_short":
        return f"的 {name} 不能为空"
    if kind == "string_type":
        return f"的 {name} 须为字符串（加引号）"
    return f"的 {name} 取值无效"


def _conflicts(units: list[Unit], officers: list[Officer]) -> list[str]:
    """What ``Registry`` would refuse, said in Chinese by position."""
    problems: list[str] = []
    first: dict[str, int] = {}
    names: dict[str, int] = {}
    for number, unit in enumerate(units, 1):
        if unit.id in first:
            problems.append(f"第 {number} 个单位的标识 id 与第 {first[unit.id]} 个单位重复")
            continue
        first[unit.id] = number
        for key in Registry.keys_of(unit):
            other = names.setdefault(key, number)
            if other != number:
                problems.append(f"第 {number} 个单位的标识、全称或别名与第 {other} 个单位的相同")
                break
    for number, unit in enumerate(units, 1):
        if unit.parent is not None and unit.parent not in first:
            problems.append(f"第 {number} 个单位的上级单位 parent 不是名单中任何单位的标识")
    emails: dict[str, int] = {}
    for number, officer in enumerate(officers, 1):
        if officer.unit not in first:
            problems.append(f"第 {number} 名信息员的单位 unit 不是名单中任何单位的标识")
        other = emails.setdefault(officer.email, number)
        if other != number:
            problems.append(f"第 {number} 名信息员的电子邮箱 email 与第 {other} 名信息员重复")
    return problems


async def commissions_page(request: Request, user: UserView) -> Response:
    return await _commissions(request, user, 200)


async def _commissions(request: Request, user: UserView, status_code: int) -> Response:
    context = {"commissions": await commissions(desk(request).store), "now": desk(request).clock.now()}
    return render(request, "commissions.html", context, user=user, status_code=status_code)


def parse_deadline(value: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """A date (the end of that day) or a local date and time in the units' time zone (else ValueError)."""
    if len(value) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(23, 59, 59), tzinfo=zone)
    when = dt.datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=zone)


#: The parts of a commission, as the form names them.
COMMISSION_FIELDS = {"code": "代码", "topic": "主题", "deadline": "截止时间"}


async def commission_add(request: Request, user: UserView, form: FormData) -> Response:
    """Add a commission; a part missing or unusable is refused with 400 (409 for a code in use), the
    form's page saying which. A failing store reaches the desk's error page."""
    state = desk(request)
    code, topic = field(form, "code"), field(form, "topic")
    try:
        deadline = parse_deadline(field(form, "deadline"), state.zone)
    except ValueError:
        return await _commission_refused(request, user, _commission_problem("deadline"), 400)
    try:
        await add_commission(state.store, code, topic, deadline, clock=state.clock)
    except DuplicateCommissionError:
        return await _commission_refused(request, user, f"代码 {code} 已存在，请换一个代码", 409)
    except InvalidCommissionError as exc:
        return await _commission_refused(request, user, _commission_problem(exc.field), 400)
    flash(request, f"已添加约稿 {code}。")
    return RedirectResponse("/commissions", status_code=303)


def _commission_problem(part: str) -> str:
    if part == "code":
        return f"{COMMISSION_FIELDS['code']}须填写，不超过 {CODE_LENGTH} 个字符，且不含控制字符"
    if part == "topic":
        return f"{COMMISSION_FIELDS['topic']}须填写，且不含控制字符"
    first, last = DEADLINE_YEARS[0], DEADLINE_YEARS[-1]
    return f"{COMMISSION_FIELDS['deadline']}须为 {first} 年至 {last} 年间的日期或时间（如 2026-12-01）"


async def _commission_refused(request: Request, user: UserView, problem: str, status_code: int) -> Response:
    flash(request, f"约稿未添加：{problem}。", "error")
    return await _commissions(request, user, status_code)


async def users_page(request: Request, user: UserView) -> Response:
    context = {"users": await users.list_users(desk(request).store), "roles": ROLES}
    return render(request, "users.html", context, user=user)


async def user_add(request: Request, user: UserView, form: FormData) -> Response:
    password = form.get("password")
    if not isinstance(password, str) or password != form.get("password2"):
        flash(request, "用户未添加：两次输入的密码不一致，请重新输入。", "error")
        return RedirectResponse("/users", status_code=303)
    state = desk(request)
    try:
        added = await users.create_user(
            state.store,
            field(form, "username"),
            password,
            field(form, "role"),
            field(form, "display_name"),
            clock=state.clock,
        )
    except ValueError as exc:
        flash(request, f"用户未添加：{exc}。", "error")
    else:
        flash(request, f"已添加用户 {added.username}（{added.role_label}）。")
    return RedirectResponse("/users", status_code=303)


async def user_change(request: Request, user: UserView, form: FormData) -> Response:
    """Change a user's role, reset their password, deactivate or reactivate them; the user's sessions end.

    Changing one's own role, deactivating oneself, or leaving the desk without an active admin is
    refused (by mailgate.desk.users, whatever the case of the name in the address)."""
    target: str = request.path_params["username"]
    what: str = request.path_params["what"]
    store = desk(request).store
    if what not in ("role", "password", "deactivate", "reactivate"):
        return not_found(request, user)
    try:
        if what == "role":
            changed = await users.set_role(store, target, field(form, "role"), actor=user)
            flash(request, f"已将 {changed.username} 的角色改为{changed.role_label}，其登录会话随即失效。")
        elif what == "password":
            password = form.get("password")
            if not isinstance(password, str) or password != form.get("password2"):
                raise ValueError("两次输入的密码不一致")
            changed = await users.set_password(store, target, password)
            if changed.id == user.id:
                start_session(request, changed)  # the admin stays signed in here; other sessions end
            flash(request, f"已重设 {changed.username} 的密码，其登录会话随即失效。")
        elif what == "deactivate":
            changed = await users.deactivate(store, target, actor=user)
            flash(request, f"已停用 {changed.username}，其登录会话随即失效。")
        else:
            changed = await users.reactivate(store, target)
            flash(request, f"已重新启用 {changed.username}。")
    except RefusedChangeError as exc:
        flash(request, f"未更改：{exc.chinese}。", "error")
    except ValueError as exc:
        flash(request, f"未更改：{exc}。", "error")
    return RedirectResponse("/users", status_code=303)


ROUTES = [
    Route("/registry", view("registry", registry_page), methods=["GET"]),
    Route("/registry/export", view("registry", registry_export), methods=["GET"]),
    Route("/registry/import", action("registry", registry_import), methods=["POST"]),
    Route("/commissions", view("registry", commissions_page), methods=["GET"]),
    Route("/commissions", action("registry", commission_add), methods=["POST"]),
    Route("/users", view("users", users_page), methods=["GET"]),
    Route("/users", action("users", user_add), methods=["POST"]),
    Route("/users/{username}/{what}", action("users", user_change), methods=["POST"]),
]
