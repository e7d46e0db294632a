"""A district admin's day in a real Chromium: log in, browse the tree, add a user and an enterprise,
export the roster PDF, verify it (and a tampered copy), and a neighbouring district sees none of it."""
from __future__ import annotations

import random
import re
import secrets

from playwright.sync_api import Page, expect

from tenants import credit_code
from tests.e2e.conftest import log_in, pdf_text

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "晓明华建国志强秀英丽娟海燕春梅红霞立新文静子涵浩然雨轩"
BRANDS = "鑫源泰丰恒达瑞祥宏盛兴隆永安福德润和嘉信鼎元博通锦华"


def _unique_chinese(pool: str, length: int) -> str:
    # Fresh names on every run, so re-runs against one database never meet their own leftovers.
    rng = random.SystemRandom()
    return "".join(rng.choice(pool) for _ in range(length))


def _toggle(page: Page, name: str):
    return page.get_by_role("button", name=f"展开{name}")


def _branch_of(toggle):
    """The <ul> a toggle fills: the child list of the toggle's own <li>."""
    return toggle.locator("xpath=../ul[contains(@class, 'branch')]")


def test_district_admin_journey(live_server, browser):
    base = live_server.url
    admin = live_server.accounts["hedong_admin"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # Log in on the Chinese login page; a wrong password is refused in Chinese first.
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(admin[0])
    page.get_by_label("密码").fill("Wrong-Passw0rd")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    log_in(page, base, admin[0], admin[1])
    expect(page.get_by_role("heading", name="河东区")).to_be_visible()

    # The tree: the chain from the national root down to the admin's own district.
    page.get_by_role("navigation").get_by_role("link", name="组织架构").click()
    expect(page).to_have_url(base + "/tenants/")
    expect(page.locator(".tree-chain a")).to_have_text(["国务院安委会", "天津市", "河东区"])
    for department in ("河东区应急管理局", "河东区商务局", "河东区纪委监委"):
        expect(page.get_by_role("link", name=department, exact=True)).to_be_visible()

    # Expand a street with the HTMX toggle: its enterprises arrive without a page load.
    street_name = "大直沽街道"
    toggle = _toggle(page, street_name)
    branch = _branch_of(toggle)
    expect(branch.locator("li")).to_have_count(0)
    url_before = page.url
    toggle.click()
    expect(branch).to_contain_text("天津市河东区大直沽农贸市场管理有限公司")
    expect(toggle).to_have_text("－")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert page.url == url_before
    # A second click folds the branch away again.
    toggle.click()
    expect(branch.locator("li")).to_have_count(0)
    expect(toggle).to_have_text("＋")
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # The street's own page.
    page.get_by_role("link", name=street_name, exact=True).click()
    expect(page.get_by_role("heading", name=street_name)).to_be_visible()
    street_url = page.url
    assert re.fullmatch(re.escape(base) + r"/tenants/\d+", street_url)

    # A new user for the street.
    username = f"e2e_{secrets.token_hex(4)}"
    display_name = _unique_chinese(SURNAMES, 1) + _unique_chinese(GIVEN, 2)
    page.get_by_role("link", name="新建用户").click()
    expect(page).to_have_url(street_url + "/users/new")
    expect(page.get_by_role("heading")).to_contain_text(street_name)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("姓名").fill(display_name)
    page.get_by_label("职务").fill("网格员")
    page.get_by_label("角色").select_option(label="工作人员")
    # The password policy speaks Chinese too.
    page.get_by_label("初始密码").fill("short")
    page.get_by_role("button", name="新建").click()
    expect(page.locator(".field .error")).to_contain_text("密码至少 8 位")
    page.get_by_label("初始密码").fill("Jiedao#2024")
    page.get_by_role("button", name="新建").click()
    expect(page.get_by_role("status")).to_contain_text(f"新建用户 {username}")

    # Register an enterprise under the street: a wrong check digit first, then the right one.
    page.goto(street_url)
    expect(page.get_by_role("cell", name=display_name)).to_be_visible()
    enterprise_name = f"天津市河东区{_unique_chinese(BRANDS, 4)}商贸有限公司"
    good_code = credit_code.make("91120102" + "".join(secrets.choice(credit_code.ALPHABET) for _ in range(9)))
    bad_code = good_code[:17] + next(c for c in "0123456789" if c != good_code[17])
    page.get_by_role("link", name="登记企业").click()
    expect(page.get_by_role("heading")).to_contain_text(f"在“{street_name}”登记企业")
    page.get_by_label("企业名称").fill(enterprise_name)
    page.get_by_label("统一社会信用代码").fill(bad_code)
    page.get_by_label("行业领域").select_option(label="商贸")
    page.get_by_role("button", name="登记").click()
    error = page.get_by_role("alert")
    expect(error).to_contain_text("第 18 位")
    expect(error).to_contain_text(f"应为“{good_code[17]}”")
    page.get_by_label("统一社会信用代码").fill(good_code)
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("heading", name=enterprise_name)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("已登记企业")
    expect(page.locator(".facts")).to_contain_text(good_code)
    enterprise_url = page.url

    # The roster PDF of the whole district, from the district's page.
    page.locator(".crumbs").get_by_role("link", name="河东区").click()
    expect(page.get_by_role("heading", name="河东区")).to_be_visible()
    district_url = page.url
    page.get_by_role("button", name="导出花名册 PDF").click()
    # The export runs in the background; the page polls with HTMX until the file is ready.
    page.wait_for_url(re.compile(r"/exports/\d+$"))
    download = page.get_by_role("link", name="下载 PDF")
    expect(download).to_be_visible(timeout=30_000)
    pdf_url = base + download.get_attribute("href")
    # Fetch the file with the same login rather than through Chromium's PDF viewer.
    response = context.request.get(pdf_url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in ("河东区", "天津市河东区安全生产委员会办公室", street_name, enterprise_name, good_code,
                     display_name, username, "天津河东万达广场商业管理有限公司"):
        assert expected in text, expected

    # The public verify page vouches for the file, and not for a copy with one byte changed.
    page.go_back()
    expect(page.get_by_role("heading", name="河东区")).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="文件核验").click()
    page.get_by_label("PDF 文件").set_input_files({"name": "roster.pdf", "mimeType": "application/pdf",
                                                  "buffer": pdf})
    page.get_by_role("button", name="核验").click()
    result = page.locator("#verify-result")
    expect(result).to_contain_text("核验通过")
    expect(result).to_contain_text("河东区单位及人员花名册")
    expect(result).to_contain_text("国务院安委会 › 天津市 › 河东区")
    middle = len(pdf) // 2
    tampered = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1:]
    page.get_by_label("PDF 文件").set_input_files({"name": "roster.pdf", "mimeType": "application/pdf",
                                                  "buffer": tampered})
    page.get_by_role("button", name="核验").click()
    expect(result).to_contain_text("未通过核验")
    expect(result).not_to_contain_text("核验通过")

    # Log out; the neighbouring district's admin gets 404 for everything of 河东区.
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("status")).to_contain_text("已退出登录")
    hebei = live_server.accounts["hebei_admin"]
    log_in(page, base, hebei[0], hebei[1])
    expect(page.get_by_role("heading", name="河北区")).to_be_visible()
    for url in (district_url, street_url, enterprise_url, pdf_url):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_role("heading", name="404")).to_be_visible()
        expect(page.locator("main")).to_contain_text("页面不存在，或不在您的管辖范围内")
        assert enterprise_name not in page.content()
    # Nor does searching by the new enterprise's name or code find it.
    page.goto(base + "/tenants/?q=" + good_code)
    expect(page.locator("#search-results")).to_contain_text("没有找到")
    context.close()


def test_tree_page_fits_a_phone(live_server, browser, tmp_path_factory):
    """At 390 px the tree, its toggles and the menu stay usable: nothing scrolls sideways."""
    admin = live_server.accounts["hedong_admin"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, admin[0], admin[1])
    page.goto(live_server.url + "/tenants/")
    toggle = _toggle(page, "大直沽街道")
    toggle.tap()
    expect(_branch_of(toggle)).to_contain_text("天津市河东区大直沽农贸市场管理有限公司")
    # The menu folds behind one button on a phone and opens on a tap.
    expect(page.get_by_role("link", name="组织架构")).to_be_hidden()
    page.locator("label.nav-button").tap()
    expect(page.get_by_role("link", name="组织架构")).to_be_visible()
    shot = tmp_path_factory.mktemp("screenshots") / "tree-390.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"截图：{shot}")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"页面横向溢出 {overflow} px"
    box = toggle.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, box  # WCAG 2.2 minimum target size
    context.close()
