"""The admin pages: the registry of units and officers, commissions, and the desk's users."""

from __future__ import annotations

import datetime as dt
import tomllib
import zoneinfo

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mailgate.desk import users
from mailgate.desk.users import ROLES, UserView
from mailgate.errors import RegistryError, StoreError
from mailgate.registry import dump_registry, registry_from_mapping
from mailgate.store.registry import add_commission, commissions, load_registry, replace_registry
from mailgate.web._base import MAX_PART, action, desk, field, flash, not_found, render, view
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
    data = await upload.read(MAX_PART + 1)
    try:
        if len(data) > MAX_PART:
            raise RegistryError("文件超过 2 MB")
        registry = registry_from_mapping(
            tomllib.loads(data.decode("utf-8")), origin=upload.filename or "上传的文件"
        )
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RegistryError) as exc:
        flash(request, f"导入失败，登记名单未改动：{exc}。请修改文件后重新上传。", "error")
        return RedirectResponse("/registry", status_code=303)
    await replace_registry(desk(request).store, registry)
    flash(request, f"已导入 {len(registry.units)} 个单位、{len(registry.officers)} 名信息员。")
    return RedirectResponse("/registry", status_code=303)


async def commissions_page(request: Request, user: UserView) -> Response:
    context = {"commissions": await commissions(desk(request).store), "now": dt.datetime.now(dt.UTC)}
    return render(request, "commissions.html", context, user=user)


def parse_deadline(value: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """A date (the end of that day) or a local date and time in the units' time zone (else ValueError)."""
    if len(value) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(23, 59, 59), tzinfo=zone)
    when = dt.datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=zone)


async def commission_add(request: Request, user: UserView, form: FormData) -> Response:
    code, topic = field(form, "code"), field(form, "topic")
    try:
        deadline = parse_deadline(field(form, "deadline"), desk(request).zone)
    except ValueError:
        deadline = None
    if not code or not topic or deadline is None or len(code) > 64:
        flash(
            request, "约稿未添加：请填写代码（不超过 64 个字符）、主题和截止时间（如 2026-12-01）。", "error"
        )
        return RedirectResponse("/commissions", status_code=303)
    try:
        await add_commission(desk(request).store, code, topic, deadline)
    except StoreError:
        flash(request, f"约稿未添加：代码 {code} 已存在，请换一个代码。", "error")
    else:
        flash(request, f"已添加约稿 {code}。")
    return RedirectResponse("/commissions", status_code=303)


async def users_page(request: Request, user: UserView) -> Response:
    context = {"users": await users.list_users(desk(request).store), "roles": ROLES}
    return render(request, "users.html", context, user=user)


async def user_add(request: Request, user: UserView, form: FormData) -> Response:
    password = form.get("password")
    if not isinstance(password, str) or password != form.get("password2"):
        flash(request, "用户未添加：两次输入的密码不一致，请重新输入。", "error")
        return RedirectResponse("/users", status_code=303)
    try:
        added = await users.create_user(
            desk(request).store,
            field(form, "username"),
            password,
            field(form, "role"),
            field(form, "display_name"),
        )
    except ValueError as exc:
        flash(request, f"用户未添加：{exc}。", "error")
    else:
        flash(request, f"已添加用户 {added.username}（{added.role_label}）。")
    return RedirectResponse("/users", status_code=303)


async def user_change(request: Request, user: UserView, form: FormData) -> Response:
    """Change a user's role, reset their password, or deactivate them (never one's own account)."""
    target: str = request.path_params["username"]
    what: str = request.path_params["what"]
    store = desk(request).store
    if what not in ("role", "password", "deactivate"):
        return not_found(request, user)
    if target == user.username and what != "password":
        flash(request, "不能更改自己的角色或停用自己的账号，请让另一位管理员操作。", "error")
        return RedirectResponse("/users", status_code=303)
    try:
        if what == "role":
            await users.set_role(store, target, field(form, "role"))
            flash(request, f"已更改 {target} 的角色。")
        elif what == "password":
            password = form.get("password")
            if not isinstance(password, str) or password != form.get("password2"):
                raise ValueError("两次输入的密码不一致")
            await users.set_password(store, target, password)
            flash(request, f"已重设 {target} 的密码。")
        else:
            await users.deactivate(store, target)
            flash(request, f"已停用 {target}，其登录会话随即失效。")
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
