"""A user of one district reaches nothing of a sibling district: by any URL, through any model."""
import re

import pytest
from sqlalchemy import and_, not_, select

from portal.audit.models import AuditEvent
from portal.audit import service as audit
from portal.exports.models import ExportDocument
from portal.uploads import service as uploads
from portal.extensions import db
from tenants import inherit
from tenants.models import Membership
from tenants.paths import in_subtree, owned_models
from tenants.scope import Scope, scoped_as
from tests.conftest import csrf_token, login
from tests.plans.conftest import sample_records as plans_records
from tests.inspections.conftest import sample_records as inspections_records
from tests.hazards.conftest import sample_records as hazards_records
from tests.tips.conftest import sample_records as tips_records
from tests.checklists.conftest import sample_records as checklists_records
from tests.dispatch.conftest import sample_records as dispatch_records
from tests.summaries.conftest import sample_records as summaries_records
from tests.codes.conftest import sample_records as codes_records
from tests.api.conftest import sample_records as api_records

SECRET = "甲区机密单位"


@pytest.fixture
def world(session, tree, make_tenant, make_user):
    """Records of every tenant-owned kind inside 甲区, and an admin and a discipline user of 乙区."""
    a = tree["a"]
    secret = make_tenant(tree["a_street"], kind="enterprise", name=SECRET, industry="commerce")
    a_user = make_user(tree["a_street"], role="staff")
    a_membership = session.execute(select(Membership).where(Membership.user_id == a_user.id)).scalar_one()
    inherit.set_value(a, "exports.letterhead", {"header": "甲区文头", "footer": "", "seal": None})
    doc = ExportDocument(tenant=a, kind="roster", title="甲区花名册", content_sha256="ab" * 32, content=b"%PDF-1.7")
    session.add(doc)
    session.flush()
    audit.record(a, "export.created", doc)
    upload = uploads.store(tree["a_shop"], "甲区证据.pdf", b"%PDF-1.7 evidence")
    plans = plans_records(session, tree, a_user, make_user(a, role="admin"))
    inspections = inspections_records(session, tree, make_user)
    hazards = {**hazards_records(session, tree, make_user), **tips_records(session, tree)}
    checklists = checklists_records(session, tree)
    dispatch = dispatch_records(session, tree, make_user)
    summaries = summaries_records(session, tree, make_user)
    codes_records(session, tree, make_user)
    api = api_records(session, tree, make_user)
    b_admin = make_user(tree["b"], role="admin")
    b_discipline = make_user(tree["b"], role="discipline")
    session.commit()
    return dict(tree=tree, secret=secret, a_user=a_user, a_membership=a_membership, doc=doc, upload=upload,
                b_admin=b_admin, b_discipline=b_discipline, plans=plans, inspections=inspections,
                hazards=hazards, checklists=checklists, dispatch=dispatch, summaries=summaries, api=api)


def test_every_tenant_owned_model_is_covered_and_shows_no_sibling_rows(session, world):
    a = world["tree"]["a"]
    models = set(owned_models())
    assert {Membership, AuditEvent, ExportDocument} <= models
    for model in models:
        with_a = session.execute(select(model).where(in_subtree(model.tenant_path, a.path))).scalars().all()
        assert with_a, f"fixture must create a {model.__name__} in 甲区"
        with scoped_as(Scope.of(world["tree"]["b"], "admin")):
            leaked = session.execute(select(model).where(in_subtree(model.tenant_path, a.path))).scalars().all()
        assert leaked == [], model.__name__


def _params(world):
    t = world["tree"]
    return {
        "tenant_id": [t["a"].id, t["a_street"].id, world["secret"].id, t["a_dept"].id],
        "user_id": [world["a_user"].id],
        "membership_id": [world["a_membership"].id],
        "doc_id": [world["doc"].id],
        "ext": ["pdf", "xlsx"],  # a document downloads as .pdf or .xlsx
        "upload_id": [world["upload"].id],
        "token": [world["upload"].token],  # an onboarding preview is reached by its upload's token
        **world["plans"],  # plan_id, clause_id, phase_id, task_id, file_id, assignment_id, notification_id
        **world["inspections"],  # inspection_id, record_id
        **world["hazards"],  # hazard_id, standard_id, tip_id
        **world["checklists"],  # fill_id, item_id, duty_id, worker_id, list_kind, duty
        **world["dispatch"],  # definition_id, submission_id, code
        **world["summaries"],  # summary_id
        **world["api"],  # token_id
    }


PUBLIC = {"static", "auth.login", "auth.logout", "exports.verify", "tips.new", "tips.streets", "tips.status",
          "codes.scan",
          "serving.healthz", "serving.readyz", "serving.metrics"}


@pytest.mark.parametrize("role_user", ["b_admin", "b_discipline"])
def test_every_url_rule_gives_404_or_nothing_for_a_sibling_district(app, client, session, world, role_user):
    login(client, world[role_user])
    assert _walk(app, client, session, world, ("GET", "POST")) > 15


@pytest.mark.parametrize("role", ["staff", "inspector"])
def test_every_post_is_refused_to_a_department_that_supervises_none_of_it(app, client, session, world, make_tenant,
                                                                            make_user, role):
    """甲区's fire department supervises no enterprise of the matrix (商贸, 危险化学品): it reads what its
    district issues, but changes nothing of the district, its streets or their enterprises."""
    fire = make_tenant(world["tree"]["a"], kind="department", name="甲区消防救援支队", supervised_industries=["fire"])
    user = make_user(fire, role=role)
    session.commit()
    login(client, user)
    assert _walk(app, client, session, world, ("POST",), own=fire.path) > 15


def _inside(model, path, own):
    """`model`'s rows in the subtree at `path`, but for those of the acting user's own node."""
    inside = in_subtree(model.tenant_path, path)
    return inside if own is None else and_(inside, not_(in_subtree(model.tenant_path, own)))


def _counts(session, path, own):
    """Rows of every tenant-owned model inside 甲区 (but the acting user's own node)."""
    return {model.__name__: session.execute(select(db.func.count()).select_from(model)
                                            .where(_inside(model, path, own))).scalar()
            for model in owned_models()}


def _walk(app, client, session, world, methods, own: str | None = None) -> int:
    """Send every URL rule, with every parameter pointing into 甲区, by each of `methods`: each is
    404 or 403 (or, without parameters, shows nothing of 甲区), and nothing is written into 甲区
    (but into the acting user's own node at `own`)."""
    params = _params(world)
    a_user = world["a_user"]
    a_path = world["tree"]["a"].path
    hidden = [SECRET, "甲街道", a_user.username, "甲区花名册", "甲区机密方案", "甲区机密任务",
              "甲区检查机密记录", "甲区隐患机密", "甲区事故机密", "甲区被约谈人",
              "甲区机密检查事项", "甲区机密隐患描述", "甲区机密举报", "甲区机密清单事项", "甲区机密焊工", "甲区机密调度表",
              "甲区机密总结", "甲区机密系统"]
    rows_before = _counts(session, a_path, own)
    checked = 0
    urls = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        if rule.endpoint.startswith("api."):
            # Token, not cookie: a login reaches none of it (tests/api walks it with another district's token).
            url = urls.build(rule.endpoint, {a: 1 for a in rule.arguments})
            for method in sorted(rule.methods & set(methods)):
                assert client.open(url, method=method).status_code in (200, 401), f"{method} {url}"
            continue
        args = sorted(rule.arguments)
        unknown = [a for a in args if a not in params]
        assert not unknown, f"{rule.rule}: add {unknown} to the access matrix"
        combos = [{}] if not args else [
            {name: value for name, value in zip(args, values)}
            for values in _product([params[a] for a in args])]
        for combo in combos:
            url = urls.build(rule.endpoint, combo)
            for method in sorted(rule.methods & set(methods)):
                before = session.execute(select(db.func.count()).select_from(AuditEvent)
                                         .where(_inside(AuditEvent, a_path, own))).scalar()
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.post(url, data={"csrf_token": csrf_token(client), "name": "x",
                                                      "kind": "street", "role": "staff",
                                                      "new_parent_id": world["tree"]["b"].id},
                                           headers={"Referer": "http://localhost/tasks/?page=2"})
                body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
                if method == "POST" and body and response.status_code not in (302, 303):  # a redirect is post/redirect/get
                    # Else the page answering a plain POST puts the form's page back in the address bar
                    # (app.js): a reload never asks for the action URL, which answers only POST.
                    assert '<meta name="page-url" content="/tasks/?page=2">' in body, f"POST {url}"
                if own is not None and response.status_code == 303 and "/exports/" in response.location:
                    pass  # it exports what it may read (its district's plan) into its own files: no write
                elif own is not None and response.status_code == 422:
                    pass  # what it may read (its district's list items) answers with the rule that refuses
                elif args:
                    assert response.status_code in (403, 404), f"{method} {url} -> {response.status_code}"
                else:
                    assert response.status_code < 500, f"{method} {url} -> {response.status_code}"
                    for word in hidden:
                        assert word not in body, f"{method} {url} shows {word}"
                after = session.execute(select(db.func.count()).select_from(AuditEvent)
                                        .where(_inside(AuditEvent, a_path, own))).scalar()
                assert after == before, f"{method} {url} wrote into 甲区"
                checked += 1
    assert _counts(session, a_path, own) == rows_before, "a request wrote into 甲区"
    return checked


def _product(lists):
    if not lists:
        return [()]
    return [(x,) + rest for x in lists[0] for rest in _product(lists[1:])]


def test_search_never_finds_sibling_records(client, world):
    login(client, world["b_admin"])
    a_ids = [world["secret"].id, world["tree"]["a_street"].id, world["tree"]["a"].id]
    for q in (SECRET, world["secret"].credit_code, "甲"):
        html = client.get(f"/tenants/?q={q}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "没有找到" in html
        assert not any(f'/tenants/{i}"' in html for i in a_ids)
    html = client.get(f"/users/?q={world['a_user'].username}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "没有找到用户" in html and f'/users/{world["a_user"].id}"' not in html


def test_html_in_a_name_is_shown_escaped(client, session, world, make_tenant, make_user):
    a = world["tree"]["a"]
    evil = make_tenant(world["tree"]["a_street"], kind="enterprise", name="<script>alert(1)</script>商店")
    admin = make_user(a, role="admin")
    session.commit()
    login(client, admin)
    html = client.get(f"/tenants/{evil.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;商店" in html
    assert re.search(r"<h1>&lt;script&gt;", html)
