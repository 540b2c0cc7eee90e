"""The desk in a real browser: each role at work, the walls between roles, a hostile message kept inert."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import Traffic
from e2e.demo import Demo, sign_in

ROWS = "#results table.rows tbody tr"


def test_a_wrong_password_is_refused_on_the_login_form(page: Page) -> None:
    sign_in(page, "editor", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_an_editor_filters_the_queue_by_unit_and_by_text(page: Page, demo: Demo) -> None:
    sign_in(page, "editor")
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.locator("header")).to_contain_text("陈静（编辑）")
    rows = page.locator(ROWS)
    expect(rows.first).to_contain_text(demo.urgent_title)
    expect(rows.first.locator(".badge.red")).to_have_text("紧急")
    page.get_by_label("单位").select_option("越秀区")
    page.get_by_role("button", name="筛选", exact=True).click()
    expect(page).to_have_url(re.compile(r"unit=%E8%B6%8A"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(demo.urgent_title)
    page.get_by_role("link", name="清除条件").click()
    page.get_by_label("搜索").fill("科技创新")
    page.get_by_label("搜索").press("Enter")
    expect(page).to_have_url(re.compile(r"q=%E7%A7%91"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("天河区举办2026年科技创新大会")


def test_an_editor_reads_the_diff_between_versions_and_records_a_status(page: Page, demo: Demo) -> None:
    sign_in(page, "editor")
    page.get_by_role("link", name=demo.revised_title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(demo.revised_title)
    expect(page.locator("h2", has_text="正文")).to_contain_text("第 2 稿")
    expect(page.locator(".main-col .text").first).to_contain_text("新建5G基站1500个")
    expect(page.locator(".card", has_text="Word 附件")).to_contain_text("全区新建5G基站1500个。")
    history = page.locator(".revision").first
    expect(history).to_contain_text("与第 1 稿相比")
    expect(history.locator("del").first).to_have_text("2")
    expect(history.locator("ins").first).to_have_text("5")
    panel = page.locator("#status-panel")
    panel.get_by_label("审阅中").check()
    panel.get_by_label("备注").fill("请核实基站数量")
    panel.get_by_role("button", name="保存状态").click()
    expect(panel.get_by_role("status")).to_have_text("状态已改为“审阅中”。")
    expect(panel.locator(".events")).to_contain_text("editor：新稿 → 审阅中")
    expect(panel.locator(".events .note")).to_have_text("请核实基站数量")
    page.reload()
    expect(page.locator("#status-panel h2 .status")).to_have_text("审阅中")
    page.goto("/queue?status=review")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS).first).to_contain_text(demo.revised_title)


def test_an_editor_cannot_reach_the_ops_or_admin_pages(page: Page) -> None:
    sign_in(page, "editor")
    expect(page).to_have_url(re.compile(r"/queue$"))
    nav = page.locator("nav.nav")
    expect(nav.get_by_role("link", name="稿件队列")).to_be_visible()
    for name in ("拒收日志", "运行状态", "登记备案", "用户"):
        expect(nav.get_by_role("link", name=name)).to_have_count(0)
    for path in ("/log", "/log/message/1", "/status", "/registry", "/commissions", "/users"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
        expect(page.locator("main")).to_contain_text("您的角色（编辑）不能访问这个页面")


def test_ops_filter_the_log_by_rule_and_read_a_rejected_message(page: Page) -> None:
    sign_in(page, "ops")
    expect(page).to_have_url(re.compile(r"/log$"))
    expect(page.locator(ROWS)).to_have_count(6)  # four rejected, one ignored, one quarantined
    page.get_by_label("规则").select_option("identifier")
    page.get_by_role("button", name="筛选", exact=True).click()
    expect(page).to_have_url(re.compile(r"rule=identifier"))
    rows = page.locator(ROWS)
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="【越秀区】越秀区老城区微改造完成").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("【越秀区】越秀区老城区微改造完成")
    expect(page.locator(".findings")).to_contain_text("identifier")
    text = page.locator(".card", has_text="正文（纯文本）")
    expect(text).to_contain_text("越秀区完成老城区微改造项目15个。")
    headers = page.locator("table.headers")
    expect(headers).to_be_hidden()
    page.get_by_text("邮件头（").click()
    expect(headers.get_by_role("row", name=re.compile(r"^from ", re.I))).to_contain_text("xxy@th.gz.gov.cn")
    expect(headers.get_by_role("row", name=re.compile(r"^subject ", re.I))).to_contain_text("微改造完成")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 .eml").click()
    assert download.value.suggested_filename.endswith(".eml")


def test_ops_replay_a_rejection_after_the_registry_change(page: Page, demo: Demo) -> None:
    sign_in(page, "ops")
    page.goto(f"/log/message/{demo.replayable_pk}")
    expect(page.locator(".findings")).to_contain_text("unregistered-sender")
    page.get_by_role("button", name="预览重放").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("重放预览")
    expect(page.locator("main")).to_contain_text("1 封邮件，其中 1 封的结果将改变。预览不会改动任何数据。")
    row = page.locator("table.rows tbody tr")
    expect(row.locator("td[data-label=原结果]")).to_contain_text("退稿")
    expect(row.locator("td[data-label=新结果]")).to_contain_text("受理")
    expect(row.locator("td[data-label=回复]")).to_contain_text("回执")
    page.get_by_label("同时向发件人发送新的回复").check()
    page.get_by_role("button", name="确认重放这 1 封邮件").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("重放结果")
    expect(page.locator("main")).to_contain_text("其中 1 封的结果已改变")
    expect(row.locator("td[data-label=说明]")).to_contain_text(re.compile(r"稿件编号 \d{8}-\d{6}"))
    expect(row.locator("td[data-label=回复]")).to_contain_text("已排队发送回执")
    page.goto(f"/log/message/{demo.replayable_pk}")
    expect(page.locator(".meta .verdict")).to_have_text("受理")


def test_admins_reach_the_registry_commissions_users_and_status(page: Page) -> None:
    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"/queue$"))
    nav = page.locator("nav.nav")
    nav.get_by_role("link", name="登记备案").click()
    expect(page.locator("main")).to_contain_text("海珠区人民政府办公室")
    expect(page.locator("main")).to_contain_text("xxb@haizhu.gov.cn")
    nav.get_by_role("link", name="约稿").click()
    expect(page).to_have_url(re.compile(r"/commissions$"))
    nav.get_by_role("link", name="用户").click()
    users = page.locator("table.rows tbody tr")
    expect(users).to_have_count(3)
    expect(page.locator("table.rows")).to_contain_text("刘洋")
    nav.get_by_role("link", name="运行状态").click()
    expect(page.locator("main")).to_contain_text("日常信息信箱 在线")
    response = page.goto("/healthz")
    assert response is not None
    assert response.status == 200
    assert response.json()["healthy"] is True


def test_a_script_in_a_messages_html_never_runs(page: Page, demo: Demo, traffic: Traffic) -> None:
    sign_in(page, "ops")
    page.goto(f"/log/message/{demo.hostile_pk}")
    title = page.title()
    frame_element = page.locator("iframe.mail-html")
    expect(frame_element).to_have_attribute("sandbox", "")
    shown = page.frame_locator("iframe.mail-html").locator("body")
    expect(shown).to_contain_text("你好，世界：网页格式的稿件。")
    expect(shown.get_by_text("点我查看")).to_be_visible()
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    assert frame.evaluate("() => [typeof window.pwned, document.title]") == ["undefined", ""]
    assert frame.locator("script").count() == 0
    assert frame.evaluate("() => Array.from(document.querySelectorAll('[onerror], [onclick]')).length") == 0
    assert not frame.evaluate("() => Array.from(document.links).some(a => a.href.startsWith('javascript:'))")
    assert page.evaluate("() => typeof window.pwned") == "undefined"
    assert page.title() == title != "pwned"
    assert traffic.dialogs == []
    assert traffic.remote == []
    assert all(url.startswith(traffic.origin) for url in traffic.requests)
