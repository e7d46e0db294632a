"""/api/v1/ with real tokens: made and revoked by an admin, stored as a digest, shown once; the
token reads and writes exactly what its unit's users in its role may (another district's records
are 404, by every API URL); cursor pages; JSON errors in Chinese; a rate per minute; every call in
the audit chain; the OpenAPI document describes every route and its page renders it."""
import hashlib
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.api import service
from portal.api.models import ApiToken
from portal.audit.models import AuditEvent
from portal.hazards.models import Hazard
from portal.ratelimit import RateHit
from tests.conftest import login, post
from tests.hazards.conftest import member

FOUND = date(2024, 6, 1).isoformat()
REDIS_URL = "redis://127.0.0.1:6379/15"  # as tests/ops and tests/exports use it


@pytest.fixture
def tokens(session, tree, make_user):
    """Secrets of tokens: 甲区's staff, 甲街道's staff, 甲商场's principal and 乙区's staff."""
    a_admin, b_admin = member(make_user(tree["a"])), member(make_user(tree["b"]))
    made = {"a": service.create(tree["a"], a_admin, name="甲区系统", role="staff")[1],
            "a_street": service.create(tree["a_street"], a_admin, name="甲街道系统", role="staff")[1],
            "a_shop": service.create(tree["a_shop"], a_admin, name="甲商场系统", role="principal")[1],
            "b": service.create(tree["b"], b_admin, name="乙区系统", role="staff")[1]}
    session.flush()
    return made


def call(client, method, url, secret=None, **kwargs):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.open(url, method=method, headers=headers, **kwargs)


def _hazard(client, secret, enterprise, description="配电室门口堆放纸箱易燃物", **extra):
    return call(client, "POST", "/api/v1/hazards", secret, json={
        "enterprise_id": enterprise.id, "level": "general", "description": description, "found_at": FOUND, **extra})


def test_an_admin_makes_a_token_shown_once_and_stored_as_a_digest(client, session, tree, make_user):
    login(client, make_user(tree["a"]))
    r = post(client, f"/tenants/{tree['a_street'].id}/api-tokens", data={"name": "街道网格系统", "role": "staff"})
    assert r.status_code == 201
    secret = re.search(r'id="new-token">(aqp_[A-Za-z0-9_-]+)<', r.get_data(as_text=True)).group(1)
    token = session.execute(select(ApiToken)).scalar_one()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest() and secret not in str(
        [getattr(token, c.key) for c in ApiToken.__table__.columns])
    # The list shows its prefix, never the token again.
    page = client.get(f"/tenants/{tree['a_street'].id}/api-tokens").get_data(as_text=True)
    assert token.prefix in page and secret not in page
    assert call(client, "GET", "/api/v1/nodes", secret).status_code == 200
    # Its account cannot log in on the pages.
    assert token.membership.user.active is False
    # An admin role is not a token's; an enterprise role is not a street's.
    for role in ("admin", "principal"):
        r = post(client, f"/tenants/{tree['a_street'].id}/api-tokens", data={"name": "x", "role": role})
        assert r.status_code == 422
    assert post(client, f"/tenants/{token.tenant_id}/api-tokens/{token.id}/revoke").status_code == 303
    r = call(client, "GET", "/api/v1/nodes", secret)
    assert r.status_code == 401 and "令牌" in r.json["error"]["message"]


def test_no_token_a_bad_token_or_a_login_cookie_is_401_in_json(client, session, tree, make_user):
    for secret in (None, "aqp_not-a-token", "Basic abc"):
        r = call(client, "GET", "/api/v1/hazards", secret)
        assert r.status_code == 401 and r.is_json and "Authorization" in r.json["error"]["message"]
    login(client, make_user(tree["a"]))  # a session cookie is not a token: no CSRF through the API
    assert call(client, "GET", "/api/v1/hazards").status_code == 401
    assert call(client, "POST", "/api/v1/hazards", json={}).status_code == 401
    r = call(client, "GET", "/api/v1/no-such-thing")
    assert r.status_code == 404 and r.is_json and "不存在" in r.json["error"]["message"]


def test_a_token_reads_its_scope_and_another_districts_records_are_404(client, session, tree, tokens):
    made = _hazard(client, tokens["a"], tree["a_shop"])
    assert made.status_code == 201, made.json
    hazard_id = made.json["id"]
    assert made.json["source"] == "department" and made.headers["Location"].endswith(f"/api/v1/hazards/{hazard_id}")
    names = {n["name"] for n in call(client, "GET", "/api/v1/nodes?limit=100", tokens["a"]).json["items"]}
    assert {"甲区", "甲街道", "甲商场"} <= names and not names & {"乙区", "乙商场", "某市"}
    assert [h["id"] for h in call(client, "GET", "/api/v1/hazards", tokens["a"]).json["items"]] == [hazard_id]
    # 乙区's token: the record and the enterprise are not there, whichever way it asks.
    for url in (f"/api/v1/hazards/{hazard_id}", f"/api/v1/nodes/{tree['a_shop'].id}",
                f"/api/v1/hazards?within={tree['a'].id}", f"/api/v1/inspections?within={tree['a_street'].id}"):
        r = call(client, "GET", url, tokens["b"])
        assert r.status_code == 404 and r.json["error"]["message"] == "页面不存在，或不在您的管辖范围内。", url
    assert call(client, "GET", "/api/v1/hazards", tokens["b"]).json["items"] == []
    assert _hazard(client, tokens["b"], tree["a_shop"], "乙区令牌写入甲区").status_code == 404
    assert session.execute(select(func.count()).select_from(Hazard)
                           .where(Hazard.description == "乙区令牌写入甲区")).scalar() == 0


def test_enterprise_self_reports_and_the_rules_of_the_services(client, session, tree, tokens):
    r = call(client, "POST", "/api/v1/self-reports", tokens["a_shop"], json={
        "level": "general", "description": "消防通道堆放货物", "location": "一层北侧", "found_at": FOUND})
    assert r.status_code == 201 and r.json["source"] == "self" and r.json["enterprise_id"] == tree["a_shop"].id
    # A district's token is not an enterprise: it records what it found with POST /hazards instead.
    r = call(client, "POST", "/api/v1/self-reports", tokens["a"], json={"level": "general"})
    assert r.status_code == 403 and "/api/v1/hazards" in r.json["error"]["message"]
    # An enterprise records only its own hazards.
    r = _hazard(client, tokens["a_shop"], tree["a_plant"])
    assert r.status_code == 404
    # The services' own rules come back as 422 with their Chinese message; bad input as 400/422.
    r = call(client, "POST", "/api/v1/self-reports", tokens["a_shop"], json={
        "level": "general", "description": "", "found_at": FOUND})
    assert r.status_code == 422 and r.json["error"]["message"] == "请填写隐患描述（不超过 500 字）。"
    r = call(client, "POST", "/api/v1/self-reports", tokens["a_shop"], json={"level": "general", "found_at": "6/1"})
    assert r.status_code == 422 and "年-月-日" in r.json["error"]["message"]
    r = call(client, "POST", "/api/v1/self-reports", tokens["a_shop"], data="not json")
    assert r.status_code == 400 and "JSON" in r.json["error"]["message"]


def test_cursor_pages_cover_every_record_once(client, session, tree, tokens):
    made = [_hazard(client, tokens["a"], tree["a_shop"], f"第{i}号隐患：灭火器过期").json["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        r = call(client, "GET", "/api/v1/hazards?limit=3" + (f"&cursor={cursor}" if cursor else ""), tokens["a"])
        seen += [h["id"] for h in r.json["items"]]
        pages += 1
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    assert seen == made and pages == 3
    for bad in ("cursor=%%%", "cursor=aWQ6eA", "limit=0", "limit=x"):
        r = call(client, "GET", f"/api/v1/hazards?{bad}", tokens["a"])
        assert r.status_code in (400, 422) and r.json["error"]["message"], bad


def test_every_call_is_audited_in_the_tokens_unit_chain(client, session, tree, tokens):
    before = session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.tenant_id == tree["a_street"].id, AuditEvent.action == "api.called")).scalar()
    call(client, "GET", "/api/v1/nodes", tokens["a_street"])
    call(client, "GET", f"/api/v1/nodes/{tree['b'].id}", tokens["a_street"])  # 404: audited too
    _hazard(client, tokens["a_street"], tree["a_shop"])
    events = session.execute(select(AuditEvent).where(
        AuditEvent.tenant_id == tree["a_street"].id, AuditEvent.action == "api.called")
        .order_by(AuditEvent.id)).scalars().all()[before:]
    assert [(e.data["method"], e.data["status"]) for e in events] == [("GET", 200), ("GET", 404), ("POST", 201)]
    # The hazard names the token's account as the one who recorded it, in the enterprise's chain.
    recorded = session.execute(select(AuditEvent).where(AuditEvent.action == "hazard.recorded")).scalars().one()
    assert recorded.actor_id == events[0].actor_id is not None


def test_calls_beyond_the_rate_are_429_until_the_minute_passes(app, client, session, tree, tokens):
    limit = app.config["API_CALLS_PER_MINUTE"]
    app.config["API_CALLS_PER_MINUTE"] = 3
    try:
        statuses = [call(client, "GET", "/api/v1/nodes", tokens["a"]).status_code for _ in range(4)]
        r = call(client, "GET", "/api/v1/nodes", tokens["a"])
        # Another token has its own count.
        other = call(client, "GET", "/api/v1/nodes", tokens["a_street"]).status_code
    finally:
        app.config["API_CALLS_PER_MINUTE"] = limit
    assert statuses == [200, 200, 200, 429] and other == 200
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 61 and "每分钟最多 3 次" in r.json["error"]["message"]


def test_with_redis_every_app_server_counts_together(app, client, session, tree, tokens, monkeypatch):
    from redis import Redis
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "API_CALLS_PER_MINUTE", 2)
    statuses = [call(client, "GET", "/api/v1/nodes", tokens["a"]).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # The count is Redis's, not this server's database: a second app server sharing Redis refuses the next call too.
    assert session.execute(select(func.count()).select_from(RateHit)).scalar_one() == 0
    redis = Redis.from_url(REDIS_URL)
    keys = redis.keys("ratelimit:api:*")
    assert keys and all(redis.ttl(k) > 0 for k in keys)
    redis.delete(*keys)


def test_every_api_route_of_another_district_is_404(app, client, session, tree, tokens, make_user):
    hazard_id = _hazard(client, tokens["a"], tree["a_shop"]).json["id"]
    params = {"node_id": tree["a_shop"].id, "hazard_id": hazard_id, "definition_id": 10 ** 6}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or not rule.arguments:
            continue
        url = app.url_map.bind("localhost").build(rule.endpoint, {a: params[a] for a in rule.arguments})
        for method in rule.methods & {"GET", "POST"}:
            assert call(client, method, url, tokens["b"], json={}).status_code == 404, url
            checked += 1
    assert checked >= 3


def test_tasks_inspections_and_dispatch_tables_read(client, session, tree, tokens):
    for url in ("/api/v1/tasks", "/api/v1/inspections", "/api/v1/dispatch/tables"):
        r = call(client, "GET", url, tokens["a"])
        assert r.status_code == 200 and r.json["items"] == [] and r.json["next_cursor"] is None, url


def test_the_openapi_document_describes_every_route_and_its_page_renders_it(app, client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.") and doc["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    served = {(re.sub(r"<(?:int:)?(\w+)>", r"{\1}", r.rule[len("/api/v1"):]), m.lower())
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")
              and r.endpoint not in ("api.openapi_document", "api.docs") for m in r.methods & {"GET", "POST"}}
    assert served == described
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/api/v1/self-reports" in html and "<script" not in html.split("</header>")[-1]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
