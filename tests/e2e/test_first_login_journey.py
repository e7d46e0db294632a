"""河东区's admin creates an account; its owner must replace the admin's password before any page;
the admin cannot open the audit records, the district's auditor reads the creation there and
verifies the chains (三员分立)."""
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from tenants.models import Tenant
from tenants.scope import unscoped
from tests.e2e.conftest import log_in, log_out


def test_first_login_changes_the_password_and_the_auditor_reads_it(committed_app, live_server, browser):
    base = live_server.url
    with committed_app.app_context(), unscoped():
        street_id = db.session.execute(select(Tenant.id).where(Tenant.name == "大王庄街道")).scalar_one()
        db.session.remove()
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()

    admin = live_server.accounts["hedong_admin"]
    log_in(page, base, admin[0], admin[1])
    expect(page.get_by_role("navigation").get_by_role("link", name="审计记录")).to_have_count(0)
    page.goto(f"{base}/tenants/{street_id}/users/new")
    page.get_by_label("用户名").fill("dawangzhuang_grid")
    page.get_by_label("姓名").fill("韩冬梅")
    page.get_by_label("角色").select_option(label="工作人员")
    page.get_by_label("初始密码").fill("Chushi#2024")
    page.get_by_role("button", name="新建").click()
    expect(page.get_by_role("status")).to_contain_text("新建用户 dawangzhuang_grid")
    expect(page.locator("body")).to_contain_text("登录后须先修改初始密码")
    response = page.goto(base + "/audit/")
    assert response.status == 403
    page.goto(base + "/")
    log_out(page)

    # The new user lands on the change page, and stays there whatever they open.
    page.goto(base + "/login")
    page.get_by_label("用户名").fill("dawangzhuang_grid")
    page.get_by_label("密码").fill("Chushi#2024")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/account/password")
    expect(page.get_by_role("status")).to_contain_text("请先修改为只有您本人知道的新密码")
    page.goto(base + "/hazards/")
    expect(page).to_have_url(base + "/account/password")
    page.get_by_label("原密码").fill("Chushi#2024")
    page.get_by_label("新密码").fill("Ziji#Mima2024")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(base + "/")
    expect(page.get_by_role("status")).to_contain_text("密码已修改")
    expect(page.locator("body")).to_contain_text("大王庄街道")
    log_out(page)

    # The auditor, not the admin, reads who created the account, and verifies the chains.
    auditor = live_server.accounts["hedong_auditor"]
    log_in(page, base, auditor[0], auditor[1])
    page.get_by_role("navigation").get_by_role("link", name="审计记录").click()
    page.get_by_role("combobox", name="按操作筛选").select_option(label="新建用户")
    expect(page.locator("#events")).to_contain_text("王建国")
    expect(page.locator("#events")).to_contain_text("dawangzhuang_grid")
    page.get_by_role("link", name="校验本辖区审计链").click()
    expect(page.get_by_role("status")).to_contain_text("本辖区审计链完整")
    expect(page.get_by_role("navigation").get_by_role("link", name="用户管理")).to_have_count(0)
