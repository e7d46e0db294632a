"""The data API from a browser's side: 河东区's admin makes a token for 大王庄街道 on the unit's
page, reads the description page (rendered offline, under the page policy), and a system using
the token reads 大王庄街道's enterprises and reports a hazard; 河北区's records stay 404 to it."""
from __future__ import annotations

from playwright.sync_api import expect

from portal.demo import PASSWORD
from tests.e2e.conftest import log_in


def test_an_admin_makes_a_token_and_a_system_uses_it(live_server, browser):
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, base, "hedong_admin", PASSWORD)
    page.goto(base + "/tenants/?q=大王庄街道")
    page.get_by_role("link", name="大王庄街道").first.click()
    page.get_by_role("link", name="接口令牌").click()
    page.get_by_label("令牌名称（对接的系统）").fill("街道网格化管理系统")
    page.get_by_label("以何种角色读写").select_option(label="工作人员")
    page.get_by_role("button", name="建立令牌").click()
    secret = page.locator("#new-token").inner_text()
    assert secret.startswith("aqp_")
    page.get_by_role("link", name="接口说明").click()
    expect(page.get_by_role("heading", name="POST /api/v1/self-reports")).to_be_visible()
    assert violations == []

    api = context.request  # the session cookie goes along and counts for nothing: the token does
    auth = {"Authorization": f"Bearer {secret}"}
    nodes = api.get(base + "/api/v1/nodes?kind=enterprise&limit=100", headers=auth).json()["items"]
    wanda = next(n for n in nodes if n["name"] == "天津河东万达广场商业管理有限公司")
    made = api.post(base + "/api/v1/hazards", headers=auth, data={
        "enterprise_id": wanda["id"], "level": "general", "description": "网格员巡查：地下车库消防通道堆放杂物",
        "found_at": "2024-06-01"})
    assert made.status == 201 and made.json()["source"] == "department"
    hebei = api.get(base + "/api/v1/nodes?kind=district", headers=auth).json()["items"]
    assert hebei == []  # 大王庄街道's token sees no district at all
    unknown = api.get(base + "/api/v1/nodes", headers={"Authorization": "Bearer aqp_wrong"})
    assert unknown.status == 401 and "令牌" in unknown.json()["error"]["message"]
    context.close()
