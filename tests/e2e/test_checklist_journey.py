"""A principal's list in a real Chromium: the street sees his enterprise unsigned; he fills every
item, a wrongly typed file is refused, photos go up, a wrong password does not sign, his own does;
the street then sees the enterprise complete. The filled page also fits a phone."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tenants.clock import today
from tests.e2e.conftest import fits, htmx_ready, log_in, log_out

WANDA = "天津河东万达广场商业管理有限公司"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082")


def _wanda_row(page: Page):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=WANDA, exact=True))


def _open_overview(page: Page, base: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name="责任清单").click()
    page.get_by_role("link", name="辖区企业清单总览").click()
    expect(page.get_by_role("heading", name=re.compile("企业责任清单总览"))).to_be_visible()
    htmx_ready(page)  # the filters are htmx: a change before htmx has bound them sends nothing


DUTY_FORMS = {
    "应急救援演练": {"演练科目（事故情景）": "商场火灾人员疏散", "参加人数": "120"},
    "全员安全警示教育": {"警示教育主题": "违规动火作业事故案例警示教育", "参加人数": "300"},
    "外包外租排查": {"承包或承租方": "天津市洁美保洁服务有限公司", "外包外租的项目或场所": "地下车库保洁"},
}


def _record_duty(page: Page, entry, duty: str) -> None:
    """Without its duty record, 已落实 is refused and points to where to record it; recorded from
    the item's link, the list comes back."""
    entry.get_by_label("责任人", exact=True).fill("孙立新")
    entry.get_by_label("落实情况").select_option(label="已落实")
    entry.get_by_role("button", name="保存本项").click()
    expect(entry.get_by_role("alert")).to_contain_text(f"请先在“责任清单 → {duty}”中登记")
    entry.get_by_role("link", name=f"登记或查看{duty}记录").click()
    page.get_by_label(re.compile("日期$")).first.fill(today().isoformat())
    for label, value in DUTY_FORMS[duty].items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("status")).to_contain_text(f"已登记{duty}记录")
    expect(page.get_by_role("heading", name=re.compile("专项行动工作清单"))).to_be_visible()


def test_principal_fills_uploads_and_signs_and_the_street_sees_it_complete(live_server, browser):
    base = live_server.url
    staff, principal = live_server.accounts["hedong_staff"], live_server.accounts["hedong_principal"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # 大王庄街道 sees 万达 with its deputy list signed and its campaign list not filled.
    log_in(page, base, staff[0], staff[1])
    _open_overview(page, base)
    row = _wanda_row(page)
    expect(row).to_contain_text("已签署")
    expect(row).to_contain_text("未填写")
    expect(row).not_to_contain_text("清单已全部签署")
    page.get_by_label("状态").select_option(label="清单已全部签署")
    expect(page.locator("#grid")).not_to_contain_text(WANDA)
    log_out(page)

    # The principal hears first that the list is not signed, and opens it.
    log_in(page, base, principal[0], principal[1])
    page.get_by_role("navigation").get_by_role("link", name="责任清单").click()
    expect(page.locator("#findings")).to_contain_text("专项行动工作清单尚未签署")
    page.get_by_role("link", name="专项行动工作清单", exact=True).click()
    page.get_by_role("button", name="开始填写").click()
    expect(page.get_by_role("heading", name=re.compile("专项行动工作清单"))).to_be_visible()
    entries = page.locator("li.entry")
    expect(entries).to_have_count(9)
    progress = page.locator("#progress")
    expect(progress).to_contain_text("已填写 0 / 9")

    # A file that is not what its name says is refused in the item, and nothing is saved.
    first = entries.nth(0)
    first.get_by_label("责任人", exact=True).fill("孙立新")
    first.get_by_label("上传文件或照片").set_input_files(
        files=[{"name": "检查记录.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00not a pdf"}])
    first.get_by_role("button", name="保存本项").click()
    expect(first.get_by_role("alert")).to_contain_text("“检查记录.pdf”的内容不是扩展名所说的类型")
    expect(progress).to_contain_text("已填写 0 / 9")
    # A form left open too long (its token no longer valid) is refused by other than its own
    # messages (400): the item says why above its form and keeps what was typed, at the same address.
    fill_url = page.url
    token = first.locator("input[name$=csrf_token]")
    valid = token.input_value()
    token.evaluate("el => { el.value = 'expired'; }")
    first.get_by_role("button", name="保存本项").click()
    expect(first.locator(".request-error")).to_contain_text("表单已过期或来源不明")
    expect(first.get_by_label("责任人", exact=True)).to_have_value("孙立新")
    expect(page).to_have_url(fill_url)
    expect(progress).to_contain_text("已填写 0 / 9")
    token.evaluate("(el, value) => { el.value = value; }", valid)

    refused_without_file = False
    for i in range(9):
        entry = entries.nth(i)
        duty = re.search(r"本项是企业履职事项“(.+?)”", entry.inner_text())
        if duty:
            # A duty (演练, 警示教育, 外包外租排查) is recorded once, as a duty record, from the item
            # itself; the list comes back and the item rests on it.
            _record_duty(page, entry, duty.group(1))
            entry = entries.nth(i)
            expect(entry).to_contain_text("本年已登记 1 次")
        needs_file = "须上传文件或照片" in entry.inner_text()
        entry.get_by_label("责任人", exact=True).fill("孙立新" if i % 2 == 0 else "周海燕")
        entry.get_by_label("职务或岗位").fill("总经理" if i % 2 == 0 else "安全部经理")
        entry.get_by_label("落实情况").select_option(label="已落实")
        entry.get_by_label("证明材料说明").fill("已按要求落实，记录存档备查。")
        if needs_file and not refused_without_file:
            # An item that asks for a file is not saved, nor counted, without one.
            entry.get_by_role("button", name="保存本项").click()
            expect(entry.get_by_role("alert")).to_contain_text("须上传文件或照片作为证明材料")
            expect(progress).to_contain_text(f"已填写 {i} / 9")
            refused_without_file = True
        if needs_file:
            entry.get_by_label("上传文件或照片").set_input_files(
                files=[{"name": f"现场照片{i + 1}.png", "mimeType": "image/png", "buffer": PNG}])
        entry.get_by_role("button", name="保存本项").click()
        # The item's own block comes back (HTMX) saying so, and the progress panel follows.
        expect(entry.get_by_role("status")).to_contain_text("已保存本项")
        expect(entry.locator(".request-error")).to_have_count(0)
        expect(progress).to_contain_text(f"已填写 {i + 1} / 9")
        if duty:
            expect(entry).to_contain_text(f"依据：{duty.group(1)}记录")
        if needs_file:
            expect(entry.get_by_role("link", name=f"现场照片{i + 1}.png")).to_be_visible()
    assert refused_without_file
    photo = entries.nth(2).get_by_role("link", name="现场照片3.png")
    response = context.request.get(base + photo.get_attribute("href"))
    assert response.status == 200 and response.body() == PNG

    # Signing asks for the password again: a wrong one is refused, his own signs and freezes.
    page.get_by_label("登录密码").fill("Wrong-Passw0rd")
    page.get_by_label("本人确认清单内容真实，对其负责").check()
    page.get_by_role("button", name="签署清单").click()
    expect(page.get_by_role("alert")).to_contain_text("密码不正确，未签署")
    page.get_by_label("登录密码").fill(principal[1])
    page.get_by_label("本人确认清单内容真实，对其负责").check()
    page.get_by_role("button", name="签署清单").click()
    expect(page.get_by_role("status")).to_contain_text("已签署第 1 版")
    expect(page.locator("#version")).to_contain_text("与签署时一致")
    expect(page.get_by_role("button", name="保存本项")).to_have_count(0)
    expect(page.get_by_role("button", name="修订（生成第 2 版）")).to_be_visible()
    log_out(page)

    # The street sees the enterprise turn complete.
    log_in(page, base, staff[0], staff[1])
    _open_overview(page, base)
    row = _wanda_row(page)
    expect(row).to_contain_text("清单已全部签署")
    page.get_by_label("状态").select_option(label="清单已全部签署")
    expect(page.locator("#grid")).to_contain_text(WANDA)
    # And drills down to the signed list and its evidence.
    page.get_by_role("link", name=WANDA, exact=True).click()
    page.get_by_role("link", name="专项行动工作清单", exact=True).click()
    expect(page.locator("#version")).to_contain_text("孙立新")
    expect(page.get_by_role("link", name="现场照片3.png")).to_be_visible()
    context.close()


def test_overview_and_list_fit_a_phone(live_server, browser):
    staff = live_server.accounts["hedong_staff"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, staff[0], staff[1])
    for path in ("/checklists/overview", "/checklists/noncompliant"):
        page.goto(live_server.url + path)
        htmx_ready(page)
        fits(page, path)
    page.goto(live_server.url + "/checklists/overview")
    page.get_by_role("link", name=WANDA, exact=True).tap()
    page.get_by_role("link", name="企业分管负责人安全生产职责清单", exact=True).tap()
    expect(page.locator("#version")).to_contain_text("已签署")
    htmx_ready(page)  # measured once the page has loaded, not while its styles may still apply
    fits(page, "清单页")
    context.close()


def test_the_principals_list_fits_a_phone(live_server, browser):
    """The principal fills on a phone: the list, its duty items and the signing form stay in one column."""
    principal = live_server.accounts["hedong_principal"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, principal[0], principal[1])
    page.goto(live_server.url + "/checklists/")
    page.get_by_role("link", name="专项行动工作清单", exact=True).tap()
    page.get_by_role("button", name="开始填写").tap()
    expect(page.locator("li.entry")).to_have_count(9)
    expect(page.locator("li.entry").filter(has_text="本项是企业履职事项")).to_have_count(3)
    fits(page, "清单填写页")
    assert "#" not in page.url  # no fragments shown to the enterprise
    context.close()
