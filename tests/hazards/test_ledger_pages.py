"""The ledger as people use it over HTTP: record with five fixes and photos, the loop with a return,
filters and the HTMX partial, listing, and a sibling district that reaches none of it."""
import io
import re
from datetime import date

from sqlalchemy import func, select

from portal.hazards.models import Hazard
from tests.conftest import login, post
from tests.hazards.conftest import PNG

FORM = {"level": "major", "description": "液氨储罐区可燃气体报警器失效", "location": "二号储罐区", "found_at": "2024-05-10",
        "fix_owner": "张三", "fix_measures": "更换报警器并联网", "fix_funds": "3.5", "fix_deadline": "2024-07-31",
        "fix_contingency": "整改期间停用储罐区，专人巡查"}


def _count(session):
    return session.execute(select(func.count()).select_from(Hazard)).scalar_one()


def _record(client, people, **change):
    item = str(__import__("portal.hazards.service", fromlist=["x"]).applicable_items(people["tree"]["a_plant"])[0].id)
    data = {**FORM, "item_id": item, **change}
    return post(client, "/hazards/new", data, content_type="multipart/form-data")


def test_an_enterprise_records_a_hazard_with_five_fixes_and_a_photo(client, session, people):
    login(client, people["plant"].user)
    assert "登记隐患" in client.get("/hazards/new").get_data(as_text=True)
    r = _record(client, people, photos=[(io.BytesIO(PNG), "现场.png")])
    assert r.status_code == 302, r.get_data(as_text=True)
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    hazard = session.execute(select(Hazard)).scalar_one()
    assert "液氨储罐区可燃气体报警器失效" in page and "自查自报" in page and "HC2017-01" in page
    assert hazard.source == "self" and hazard.has_fixes and len(hazard.photos) == 1
    photo = client.get(f"/uploads/{hazard.photos[0].upload_id}")
    assert photo.status_code == 200 and photo.mimetype == "image/png" and photo.data == PNG


def test_bad_input_gets_a_chinese_message_and_writes_nothing(client, session, people):
    login(client, people["plant"].user)
    cases = [
        (dict(fix_deadline="2024-05-01"), "不能早于发现日期"),
        (dict(fix_funds="-2"), "不能为负数"),
        (dict(found_at="2999-01-01"), "不能晚于今天"),
        (dict(item_id=""), "判定依据"),
        (dict(fix_owner="", fix_contingency=""), "还缺：责任人、应急预案"),
        (dict(description=""), "此项必填"),
        (dict(photos=[(io.BytesIO(b"MZ\x90\x00 not an image"), "照片.jpg")]), "的内容不是图片"),
    ]
    for change, message in cases:
        r = _record(client, people, **change)
        assert r.status_code == 422 and message in r.get_data(as_text=True), (change, message)
    assert _count(session) == 0


def test_the_loop_over_http_with_a_return(client, session, people, make_hazard):
    hazard = make_hazard()
    url = f"/hazards/{hazard.id}/transition"
    login(client, people["plant"].user)
    assert post(client, url, {"action": "accept"}).status_code == 403  # not an enterprise's step
    assert post(client, url, {"action": "start"}).status_code == 302
    assert post(client, url, {"action": "report"}).status_code == 302
    client.post("/logout", data={"csrf_token": ""})
    login(client, people["emergency"].user)
    html = client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert "验收通过" in html and "退回理由" in html
    r = post(client, url, {"action": "return", "reason": ""})
    assert r.status_code == 422 and "退回须写明理由" in r.get_data(as_text=True)
    r = post(client, url, {"action": "close"})
    assert r.status_code == 422 and "不能跳过" in r.get_data(as_text=True)
    assert post(client, url, {"action": "return", "reason": "报警器未联网"}).status_code == 302
    session.refresh(hazard)
    assert hazard.status == "rectifying"
    timeline = client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert "退回整改" in timeline and "理由：报警器未联网" in timeline


def test_ledger_filters_search_and_the_htmx_partial(client, session, people, make_hazard):
    t = people["tree"]
    make_hazard(description="报警器失效", deadline=date(2099, 12, 31))
    make_hazard(actor=people["shop"], enterprise=t["a_shop"], level="general", description="灭火器过期",
                deadline=date(2024, 6, 1))
    login(client, people["district"].user)
    page = client.get("/hazards/").get_data(as_text=True)
    # The figures come in their own request once the page is shown.
    assert "存量与增量" in page and 'hx-get="/hazards/figures?year=' in page and "动态清零" not in page
    response = client.get("/hazards/figures", headers={"HX-Request": "true"})
    figures = response.get_data(as_text=True)
    assert "动态清零" in figures and "<svg" in figures and "<html" not in figures
    # Loaded by the page, not by the user: it must not set the session cookie again (a 退出 pressed
    # while it was on its way would be undone).
    assert "Set-Cookie" not in response.headers
    assert "报警器失效" in page and "灭火器过期" in page
    partial = client.get("/hazards/?level=general", headers={"HX-Request": "true"})
    html = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in html and "存量与增量" not in html
    assert "灭火器过期" in html and "报警器失效" not in html and "共 1 条" in html
    html = client.get("/hazards/?q=甲商场", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "灭火器过期" in html and "报警器失效" not in html
    html = client.get("/hazards/?overdue=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "灭火器过期" in html and "逾期" in html and "报警器失效" not in html
    html = client.get(f"/hazards/?within={t['a_street'].id}").get_data(as_text=True)
    assert "存量与增量 · 甲街道" in html


def test_html_in_a_description_is_shown_escaped(client, people, make_hazard):
    hazard = make_hazard(description="<script>alert(1)</script>配电箱")
    login(client, people["district"].user)
    for url in ("/hazards/", f"/hazards/{hazard.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;配电箱" in html


def test_a_district_lists_a_hazard_over_http(client, session, people, make_hazard):
    hazard = make_hazard()
    login(client, people["district"].user)
    html = client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert "挂牌督办该重大事故隐患" in html
    r = post(client, f"/hazards/{hazard.id}/listing", {"document_number": "", "tracker_id": "", "deadline": ""})
    assert r.status_code == 422 and "此项必填" in r.get_data(as_text=True)
    r = post(client, f"/hazards/{hazard.id}/listing", {"document_number": "甲安委办督〔2024〕7号",
                                                       "tracker_id": str(people["district"].user_id),
                                                       "deadline": "2999-12-31"})
    assert r.status_code == 302
    listed = client.get("/hazards/listed").get_data(as_text=True)
    assert "甲安委办督〔2024〕7号" in listed and people["district"].user.display_name in listed
    r = post(client, f"/hazards/{hazard.id}/delisting")
    assert r.status_code == 422 and "尚未销号" in r.get_data(as_text=True)


def test_a_sibling_district_reaches_nothing(client, people, make_hazard):
    hazard = make_hazard(description="甲区的机密隐患")
    login(client, people["sibling"].user)
    for url in (f"/hazards/{hazard.id}", f"/uploads/{0}"):
        assert client.get(url).status_code == 404
    for path in ("transition", "fixes", "listing", "delisting", "photos"):
        assert post(client, f"/hazards/{hazard.id}/{path}", {"action": "start"}).status_code in (403, 404), path
    for url in ("/hazards/", "/hazards/inbox", "/hazards/listed", "/hazards/?q=机密"):
        assert "甲区的机密隐患" not in client.get(url).get_data(as_text=True)
    assert client.get(f"/hazards/?within={people['tree']['a_street'].id}").status_code == 404
    assert client.get(f"/hazards/new?enterprise={people['tree']['a_plant'].id}").status_code == 404
    r = client.get(f"/hazards/new?credit_code={people['tree']['a_plant'].credit_code}")
    assert r.status_code == 422 and "不在您的管辖范围" in r.get_data(as_text=True)


def test_a_department_records_a_found_hazard_for_an_enterprise_it_supervises(client, session, people):
    t = people["tree"]
    login(client, people["emergency"].user)
    r = client.get(f"/hazards/new?credit_code={t['a_plant'].credit_code}")
    assert r.status_code == 302 and re.search(rf"enterprise={t['a_plant'].id}$", r.headers["Location"])
    item = str(__import__("portal.hazards.service", fromlist=["x"]).applicable_items(t["a_plant"])[0].id)
    r = post(client, f"/hazards/new?enterprise={t['a_plant'].id}", {**FORM, "item_id": item},
             content_type="multipart/form-data")
    assert r.status_code == 302
    assert session.execute(select(Hazard.source)).scalar_one() == "department"
    # 应急管理局 does not supervise commerce: the shop is out of its reach.
    assert client.get(f"/hazards/new?enterprise={t['a_shop'].id}").status_code == 404


def test_the_form_offers_the_industrys_standards_and_says_when_none_is_bundled(client, session, people, make_tenant):
    """A shop (商贸) is offered its district's key items for 商贸 first, then the 工贸 standard that
    covers 商贸, each under its name; a gas company, whose national standard is only catalogued, is
    told so and may record a major hazard without a clause."""
    from portal.hazards import service
    t = people["tree"]
    service.publish_key_items(t["a"], name="甲区商场重点检查事项", document_number="", industry="commerce",
                              items=["疏散通道被占用"])
    session.commit()
    login(client, people["shop"].user)
    html = client.get("/hazards/new").get_data(as_text=True)
    groups = re.findall(r'<optgroup label="([^"]+)"', html)
    assert groups[0].startswith("甲区商场重点检查事项（重点检查事项") and groups[1].startswith("工贸企业重大事故隐患判定标准（判定标准")
    assert "以上为商贸行业适用的" in html
    gas = make_tenant(t["a_street"], kind="enterprise", name="甲燃气公司", industry="gas")
    login(client, people["street"].user)
    html = client.get(f"/hazards/new?enterprise={gas.id}").get_data(as_text=True)
    assert "<optgroup" not in html and "系统未随附燃气行业的判定标准条文" in html
    assert "《城镇燃气经营安全重大隐患判定标准》仅收录名称" in html
    r = post(client, f"/hazards/new?enterprise={gas.id}", {**FORM, "item_id": ""}, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)


def test_the_level_is_chosen_not_preselected(client, session, people):
    login(client, people["plant"].user)
    html = client.get("/hazards/new").get_data(as_text=True)
    level = re.search(r'<select id="level" name="level"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert level.startswith('<option value="">请选择</option>') and "selected" not in level
    r = _record(client, people, level="")
    assert r.status_code == 422 and "请选择隐患级别" in r.get_data(as_text=True) and _count(session) == 0
