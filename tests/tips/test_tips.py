"""Public tips: no login, a tracking code, a status page that shows the state and nothing else,
a flood from one address refused, the street verifies and a true tip becomes a hazard; rewards."""
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.hazards.models import Hazard
from portal.tips import service
from portal import ratelimit
from portal.ratelimit import RateHit
from portal.tips.models import Tip
from tests.conftest import csrf_token, login, post, results_at_once
from tests.hazards.conftest import PNG, member

SECRET_TEXT = "三号仓库夜间违规储存液化气钢瓶五十余个"


@pytest.fixture
def staff(session, tree, make_user):
    from portal.hazards import service as hazards
    hazards.load_national_standards(tree["root"])
    return member(make_user(tree["a_street"], role="staff"))


def _form(tree, **change):
    return {"district_id": str(tree["a"].id), "street_id": str(tree["a_street"].id), "enterprise_name": "甲化工厂",
            "address": "甲街道工业路 8 号", "description": SECRET_TEXT, "anonymous": "y", **change}


def _submit(client, tree, **change):
    data = _form(tree, **change)
    data["csrf_token"] = csrf_token(client)
    return client.post("/tips/", data=data, content_type="multipart/form-data")


def _code(response):
    return re.search(r'id="tracking-code">([A-Z0-9-]+)<', response.get_data(as_text=True)).group(1)


def test_anyone_reports_without_login_and_gets_a_tracking_code(client, session, tree):
    page = client.get("/tips/").get_data(as_text=True)
    assert "12350" in page and "甲区" in page and "匿名举报" in page
    streets = client.get(f"/tips/streets?district_id={tree['a'].id}", headers={"HX-Request": "true"})
    assert "甲街道" in streets.get_data(as_text=True) and "乙街道" not in streets.get_data(as_text=True)
    r = _submit(client, tree, photos=[(io.BytesIO(PNG), "现场.png")])
    assert r.status_code == 201
    code = _code(r)
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
    tip = session.execute(select(Tip)).scalar_one()
    assert tip.tenant_id == tree["a_street"].id and tip.anonymous and tip.reporter_name == "" and len(tip.photos) == 1
    # The code itself is not stored, only its digest.
    assert code.replace("-", "") not in str([getattr(tip, c.key) for c in Tip.__table__.columns])


def test_a_tip_without_a_street_goes_to_the_district_and_a_foreign_street_is_refused(client, session, tree):
    assert _submit(client, tree, street_id="").status_code == 201
    assert session.execute(select(Tip.tenant_id)).scalar_one() == tree["a"].id
    r = _submit(client, tree, street_id=str(tree["b_street"].id))
    assert r.status_code == 422 and "不属于该区县" in r.get_data(as_text=True)
    r = _submit(client, tree, description="太短")
    assert r.status_code == 422 and "10 至 2000 字" in r.get_data(as_text=True)


def test_the_status_page_shows_the_state_and_nothing_else(client, session, tree, staff):
    code = _code(_submit(client, tree, anonymous="", reporter_name="王举报", contact="13800000000"))
    tip = session.execute(select(Tip)).scalar_one()
    service.verify(tip, staff, true=False, note="经查该仓库为空置厂房，民警王某陪同核查")
    session.flush()
    for typed in (code, code.replace("-", "").lower(), " " + code + " "):
        r = post(client, "/tips/status", {"code": typed})
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "已核查：不属实" in html
        for private in (SECRET_TEXT, "甲化工厂", "工业路", "王举报", "13800000000", "空置厂房", "甲街道", staff.user.display_name):
            assert private not in html, private
    r = post(client, "/tips/status", {"code": "AAAA-BBBB-CCCC-DDDD"})
    assert r.status_code == 404 and "没有找到" in r.get_data(as_text=True)


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_limits(app, monkeypatch):
    """Rate limits counted in Redis, as several web hosts share them."""
    from redis import Redis
    redis = Redis.from_url(REDIS_URL)
    redis.delete(*redis.keys("ratelimit:tips:*") or ["none"])
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    yield redis
    redis.delete(*redis.keys("ratelimit:tips:*") or ["none"])


@pytest.fixture(params=["database", "redis"])
def counted_in(request):
    """Where the hits are counted: the database (one host) or Redis (None: the database)."""
    return request.getfixturevalue("redis_limits") if request.param == "redis" else None


def test_a_flood_from_one_address_gets_429(client, session, tree, app, counted_in):
    limit = app.config.get("TIPS_PER_HOUR", 5)
    for _ in range(limit):
        assert _submit(client, tree).status_code == 201
    r = _submit(client, tree)
    assert r.status_code == 429 and "一小时内最多提交" in r.get_data(as_text=True) and "12350" in r.get_data(as_text=True)
    assert session.execute(select(func.count()).select_from(Tip)).scalar_one() == limit
    # Another address is not held back, and the limit keeps no address in the clear.
    r = client.post("/tips/", data={**_form(tree), "csrf_token": csrf_token(client)},
                    environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert r.status_code == 201
    if counted_in is None:
        stored = session.execute(select(RateHit.key_hash)).scalars().all()
    else:
        # Nothing in this host's database: the next request may reach another host.
        assert session.execute(select(func.count()).select_from(RateHit)).scalar_one() == 0
        stored = [k.decode() for k in counted_in.keys("ratelimit:tips:*")]
        assert sorted(counted_in.zcard(k) for k in stored) == [1, limit]
    assert len(stored) == (limit + 1 if counted_in is None else 2)
    assert all(re.search(r"[0-9a-f]{64}$", h) for h in stored) and "127.0.0.1" not in str(stored)


def test_the_redis_limit_holds_when_several_hosts_take_the_last_request_at_once(app, redis_limits):
    """Redis checks and counts in one script: of many requests at once, exactly the limit pass."""
    assert sorted(results_at_once(app, lambda: ratelimit.take("tips", "198.51.100.7", 3, timedelta(hours=1)), 8)) \
        == [False] * 5 + [True] * 3


def test_script_in_a_tip_is_shown_escaped(client, session, tree, staff):
    _submit(client, tree, description="<script>alert('x')</script>仓库堆放液化气钢瓶", enterprise_name="<b>某厂</b>")
    login(client, staff.user)
    tip = session.execute(select(Tip)).scalar_one()
    for url in ("/tips/received", f"/tips/{tip.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert('x')</script>" not in html and "<b>某厂</b>" not in html
        assert "&lt;b&gt;某厂&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in client.get(f"/tips/{tip.id}").get_data(as_text=True)


def test_a_true_tip_becomes_a_hazard_from_a_tip_with_its_photos(client, session, tree, staff):
    _submit(client, tree, photos=[(io.BytesIO(PNG), "现场.png")])
    tip = session.execute(select(Tip)).scalar_one()
    login(client, staff.user)
    assert "甲化工厂" in client.get("/tips/received").get_data(as_text=True)
    form = client.get(f"/tips/{tip.id}?enterprise_id={tree['a_plant'].id}", headers={"HX-Request": "true"})
    assert "HC2017-01" in form.get_data(as_text=True)  # the chosen enterprise's standard items
    r = post(client, f"/tips/{tip.id}/verification", {"result": "true", "enterprise_id": "", "level": "major"})
    assert r.status_code == 422 and "须选定被举报的企业" in r.get_data(as_text=True)
    item = re.search(r'<option value="(\d+)">HC2017-05', form.get_data(as_text=True)).group(1)
    r = post(client, f"/tips/{tip.id}/verification", {"result": "true", "enterprise_id": str(tree["a_plant"].id),
                                                      "level": "major", "item_id": item, "note": "现场查实"})
    assert r.status_code == 302
    hazard = session.execute(select(Hazard)).scalar_one()
    assert (hazard.source, hazard.tenant_id, hazard.description) == ("tip", tree["a_plant"].id, SECRET_TEXT)
    assert hazard.found_by_unit_id == tree["a_street"].id and len(hazard.photos) == 1
    assert hazard.photos[0].upload.tenant_id == tree["a_plant"].id  # the enterprise's own copy
    session.refresh(tip)
    assert tip.status == "verified" and tip.hazard_id == hazard.id
    r = post(client, f"/tips/{tip.id}/verification", {"result": "false", "note": "again"})
    assert r.status_code == 422 and "不能再次核查" in r.get_data(as_text=True)


def test_rewards(client, session, tree, staff):
    _submit(client, tree)
    tip = session.execute(select(Tip)).scalar_one()
    with pytest.raises(service.TipError, match="只有查实的举报"):
        service.reward(tip, staff, amount=Decimal("1"), named=False)
    from portal.hazards import service as hazards
    service.verify(tip, staff, true=True, enterprise=tree["a_plant"], finding=hazards.Finding(
        level="general", description="钢瓶违规存放", found_at=date.today()))
    with pytest.raises(service.TipError, match="匿名举报只能匿名领取"):
        service.reward(tip, staff, amount=Decimal("0.5"), named=True)
    with pytest.raises(service.TipError, match="须大于 0"):
        service.reward(tip, staff, amount=Decimal("-1"), named=False)
    service.reward(tip, staff, amount=Decimal("0.5"), named=False, today=date(2024, 6, 1))
    with pytest.raises(service.TipError, match="已记录奖励"):
        service.reward(tip, staff, amount=Decimal("0.5"), named=False)
    assert service.reward_figures(tree["a"], date(2024, 1, 1), date(2024, 12, 31)) == (Decimal("0.5"), Decimal("0.5"))
    assert service.reward_figures(tree["b"], date(2024, 1, 1), date(2024, 12, 31)) == (0, 0)


def test_only_the_receiving_street_and_its_levels_see_a_tip(client, session, tree, make_user, staff):
    _submit(client, tree)
    tip = session.execute(select(Tip)).scalar_one()
    for unit, role in ((tree["b"], "admin"), (tree["b_street"], "staff")):
        login(client, make_user(unit, role=role))
        assert client.get(f"/tips/{tip.id}").status_code == 404
        assert "甲化工厂" not in client.get("/tips/received").get_data(as_text=True)
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    # A department does not verify tips (the street does), and an inspector cannot reach the page.
    login(client, make_user(tree["a_dept"], role="inspector"))
    assert client.get("/tips/received").status_code == 403
    with pytest.raises(service.TipError, match="受理的街道"):
        service.verify(tip, member(make_user(tree["a_dept"], role="staff")), true=False, note="x")


def test_an_anonymous_tip_from_a_logged_in_employee_names_nobody(client, session, tree, make_user):
    """An internal whistleblower (内部吹哨人) may be logged in; an anonymous tip still names nobody."""
    from portal.audit.models import AuditEvent
    from portal.uploads.models import Upload
    employee = make_user(tree["a_plant"], role="safety_officer")
    login(client, employee)
    assert _submit(client, tree, photos=[(io.BytesIO(PNG), "现场.png")]).status_code == 201
    tip = session.execute(select(Tip)).scalar_one()
    assert session.get(Upload, tip.photos[0].upload_id).created_by_id is None
    events = session.execute(select(AuditEvent).where(AuditEvent.tenant_id == tree["a_street"].id)).scalars().all()
    assert {e.action for e in events} >= {"tip.received", "upload.stored"}
    assert all(e.actor_id is None for e in events)
    # The employee is still logged in afterwards.
    assert client.get("/hazards/").status_code == 200


def test_behind_one_trusted_proxy_each_client_has_its_own_quota(client, session, tree, app, monkeypatch):
    """Behind nginx every request comes from the proxy's address: with TRUSTED_PROXIES=1 the
    quota counts the client nginx names in X-Forwarded-For, so one flood does not shut the form
    for the whole city."""
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    limit = app.config.get("TIPS_PER_HOUR", 5)
    # nginx terminates HTTPS: the app sees https (Flask-WTF then checks the Referer, as browsers send it).
    flood = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "Referer": "https://localhost/tips/"}
    for _ in range(limit):
        assert client.post("/tips/", data={**_form(tree), "csrf_token": csrf_token(client)},
                           headers=flood).status_code == 201
    assert client.post("/tips/", data={**_form(tree), "csrf_token": csrf_token(client)},
                       headers=flood).status_code == 429
    # A forged header in front of nginx's own is not believed: only the last hop counts.
    forged = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert client.post("/tips/", data={**_form(tree), "csrf_token": csrf_token(client)},
                       headers=forged).status_code == 429
    neighbour = {"X-Forwarded-For": "203.0.113.8"}
    assert client.post("/tips/", data={**_form(tree), "csrf_token": csrf_token(client)},
                       headers=neighbour).status_code == 201


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(client, session, tree, app):
    assert app.config["TRUSTED_PROXIES"] == 0
    limit = app.config.get("TIPS_PER_HOUR", 5)
    for n in range(limit):
        assert client.post("/tips/", data={**_form(tree), "csrf_token": csrf_token(client)},
                           headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code == 201
    # A client cannot dodge the quota by making up a new address for every tip.
    assert client.post("/tips/", data={**_form(tree), "csrf_token": csrf_token(client)},
                       headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429
