"""/api/v1/: every call carries `Authorization: Bearer <token>`, acts as the token's membership
through the same scope listener as the pages, is counted against the token's rate and audited in
the token's unit's chain. Lists page by cursor; errors are JSON with a Chinese message."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_login import login_required
from sqlalchemy import select

from portal.api import openapi, service
from portal.api.forms import TokenForm
from portal.api.models import ApiToken
from portal.audit import service as audit
from portal.database import mark_read_only, reset_read_only
from portal.dispatch import exchange, periods
from portal.dispatch import service as dispatch
from portal.dispatch.models import ReportDefinition
from portal.errors import Refused
from portal.extensions import csrf, db
from portal.forms import choices
from portal.hazards import service as hazards
from portal.hazards.models import Hazard
from portal.inspections import service as inspections
from portal.inspections.models import Inspection
from portal.permissions import allows
from portal.plans.models import Assignment
from portal.web import attempt, render, requires
from tenants.models import ROLES, Tenant
from tenants.scope import Scope, current_scope, get_covered_or_404, get_managed_or_404, get_scoped_or_404, set_scope

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies: a token in a header cannot be sent by another site's form
PUBLIC = ("api.openapi_document", "api.docs")
MAX_LIMIT = 100


class ApiRefused(Refused):
    """A call refused with a status of its own (400 for a malformed body, 403 for a role)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def _error(status: int, message: str, **headers):
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC:
        return None
    # Every call writes (its audit event, its count): a write transaction from the start.
    reset_read_only(g.pop("read_only_token"))
    g.read_only_token = mark_read_only(False)
    db.session.rollback()
    header = request.headers.get("Authorization", "")
    token = service.authenticate(header[len("Bearer "):].strip() if header.startswith("Bearer ") else "")
    if token is None:
        return _error(401, "缺少或无效的接口令牌：请在请求头中写 Authorization: Bearer <令牌>；令牌由本单位管理员建立。",
                      **{"WWW-Authenticate": "Bearer"})
    # Whatever cookie came along, the call is the token's: its membership, its scope.
    g.api_token, g.membership, g.memberships = token, token.membership, [token.membership]
    set_scope(Scope.of(token.membership.tenant, token.membership.role))
    limit = current_app.config["API_CALLS_PER_MINUTE"]
    wait = service.spend(token, limit)
    db.session.commit()
    if wait is not None:
        return _error(429, f"调用过于频繁：每个令牌每分钟最多 {limit} 次，请 {wait} 秒后重试。", **{"Retry-After": str(wait)})
    return None


@bp.after_request
def _audited(response):
    token = g.get("api_token")
    if token is None:
        return response
    if response.status_code >= 400:
        db.session.rollback()
    audit.record(token.tenant, "api.called", token, {"method": request.method, "path": request.path,
                                                     "status": response.status_code}, actor=token.membership)
    db.session.commit()
    return response


@bp.errorhandler(Refused)
def _refused(e):
    db.session.rollback()
    return _error(getattr(e, "status", 422), str(e))


def _require(permission: str) -> None:
    if not allows(g.membership, permission):
        raise ApiRefused("该令牌的角色无权进行此操作。", 403)


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiRefused("请求体须为 JSON 对象（Content-Type: application/json）。", 400)
    return data


def _day(data: dict, key: str, required: bool = True) -> date | None:
    raw = data.get(key)
    if raw in (None, ""):
        if required:
            raise ApiRefused(f"缺少 {key}（日期，格式 年-月-日，如 2024-06-30）。")
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ApiRefused(f"{key} 格式应为 年-月-日，如 2024-06-30。") from None


def _int(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiRefused(f"{name} 须为整数。") from None


def _page(stmt, model, render_item):
    """One page of `stmt` in id order after the cursor: {"items": [...], "next_cursor": str|null}."""
    after = service.decode_cursor(request.args.get("cursor"))
    limit = _int(request.args.get("limit"), "limit")
    limit = 50 if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiRefused(f"limit 须在 1 至 {MAX_LIMIT} 之间。", 400)
    rows = db.session.execute(stmt.order_by(None).where(model.id > after).order_by(model.id).limit(limit + 1)) \
        .scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"items": [render_item(r) for r in rows],
                    "next_cursor": service.encode_cursor(rows[-1].id) if more else None})


def _within():
    node_id = request.args.get("within")
    return get_covered_or_404(node_id) if node_id else None


# ---------------------------------------------------------------- reads

def node_json(t: Tenant) -> dict:
    return {"id": t.id, "parent_id": t.parent_id, "kind": t.kind, "kind_label": t.kind_label, "name": t.name,
            "division_code": t.code, "credit_code": t.credit_code, "industry": t.industry,
            "high_risk": t.high_risk, "address": t.address}


@bp.get("/nodes")
def nodes():
    scope = current_scope()
    stmt = select(Tenant).where(Tenant.id.not_in(scope.ancestor_ids))  # breadcrumbs are not the unit's nodes
    if request.args.get("kind"):
        stmt = stmt.where(Tenant.kind == request.args["kind"])
    return _page(stmt, Tenant, node_json)


@bp.get("/nodes/<int:node_id>")
def node(node_id):
    return jsonify(node_json(get_covered_or_404(node_id)))


def hazard_json(h: Hazard) -> dict:
    return {"id": h.id, "enterprise_id": h.tenant_id, "enterprise_name": h.tenant.name, "level": h.level,
            "source": h.source, "status": h.status, "industry": h.industry, "description": h.description,
            "location": h.location, "found_at": h.found_at.isoformat(), "standard_item_id": h.standard_item_id,
            "fix_deadline": h.fix_deadline.isoformat() if h.fix_deadline else None,
            "rectified_on": h.rectified_on.isoformat() if h.rectified_on else None,
            "closed_on": h.closed_on.isoformat() if h.closed_on else None,
            "listed": h.listed_by_id is not None and h.delisted_on is None}


@bp.get("/hazards")
def hazard_list():
    args = request.args
    f = hazards.LedgerFilter(status=args.get("status", ""), level=args.get("level", ""),
                             source=args.get("source", ""), within=_within())
    return _page(hazards.ledger(f), Hazard, hazard_json)


@bp.get("/hazards/<int:hazard_id>")
def hazard(hazard_id):
    return jsonify(hazard_json(get_scoped_or_404(Hazard, hazard_id)))


def inspection_json(i: Inspection) -> dict:
    return {"id": i.id, "kind": i.kind, "enterprise_id": i.tenant_id, "enterprise_name": i.tenant.name,
            "unit_id": i.unit_id, "unit_name": i.unit_name, "inspected_on": i.inspected_on.isoformat(),
            "status": i.status, "signed_at": i.signed_at.isoformat() if i.signed_at else None,
            "amends_id": i.amends_id, "content_sha256": i.content_sha256}


@bp.get("/inspections")
def inspection_list():
    return _page(inspections.listing(kind=request.args.get("kind", ""), status=request.args.get("status", ""),
                                     within=_within()), Inspection, inspection_json)


def task_json(a: Assignment) -> dict:
    return {"id": a.id, "task_id": a.task_id, "title": a.task.title, "unit_id": a.tenant_id,
            "assigned_by_id": a.assigner_id, "state": a.state, "state_label": a.state_label,
            "deadline": a.deadline.isoformat(), "signed_at": a.signed_at.isoformat() if a.signed_at else None,
            "reported_at": a.reported_at.isoformat() if a.reported_at else None,
            "done_at": a.done_at.isoformat() if a.done_at else None}


@bp.get("/tasks")
def task_list():
    stmt = select(Assignment)
    if request.args.get("state"):
        stmt = stmt.where(Assignment.state == request.args["state"])
    return _page(stmt, Assignment, task_json)


@bp.get("/dispatch/tables")
def dispatch_tables():
    unit = g.membership.tenant
    return jsonify({"items": [{"id": d.id, "uid": d.uid, "name": d.name, "owner_id": d.tenant_id, "period": d.period,
                               "version": d.version,
                               "figures_url": url_for("api.dispatch_figures", definition_id=d.id)}
                              for d in dispatch.definitions_for(unit)], "next_cursor": None})


@bp.get("/dispatch/tables/<int:definition_id>/figures")
def dispatch_figures(definition_id):
    """The figures of a node (default: the token's unit) for one period of a table in force for it."""
    definition = get_scoped_or_404(ReportDefinition, definition_id)
    node = get_covered_or_404(request.args["node"]) if request.args.get("node") else g.membership.tenant
    if definition.id not in {d.id for d in dispatch.definitions_for(node)}:
        raise ApiRefused("该调度表不适用于所选单位。", 404)
    period = periods.parse_period(definition, request.args.get("period"))
    figures, as_of = dispatch.shown(definition, node, period)
    return jsonify({"table_id": definition.id, "node_id": node.id, "period_start": period.start.isoformat(),
                    "period_end": period.end.isoformat(), "as_of": as_of.isoformat() if as_of else None,
                    **dispatch.frozen(figures)})


# ---------------------------------------------------------------- writes

def _finding(data: dict) -> hazards.Finding:
    return hazards.Finding(level=str(data.get("level") or ""), description=str(data.get("description") or ""),
                           location=str(data.get("location") or ""), found_at=_day(data, "found_at"),
                           item_id=_int(data.get("standard_item_id"), "standard_item_id"))


def _created(hazard: Hazard):
    db.session.flush()
    response = jsonify(hazard_json(hazard))
    response.status_code = 201
    response.headers["Location"] = url_for("api.hazard", hazard_id=hazard.id)
    return response


@bp.post("/hazards")
def hazard_create():
    """A hazard a department or government level found at an enterprise in its scope."""
    _require("hazards.record")
    data = _body()
    enterprise = get_covered_or_404(_int(data.get("enterprise_id"), "enterprise_id") or 0)
    return _created(hazards.record(enterprise, g.membership, _finding(data)))


@bp.post("/self-reports")
def self_report():
    """An enterprise's own hazard (企业自查自改), reported by its token: source 企业自查, not fined."""
    _require("hazards.record")
    if g.membership.tenant.kind != "enterprise":
        raise ApiRefused("自查上报只能使用企业的接口令牌；部门和政府层级请用 POST /api/v1/hazards。", 403)
    return _created(hazards.record(g.membership.tenant, g.membership, _finding(_body())))


@bp.post("/dispatch/submissions")
def dispatch_submission():
    """A lower platform's approved table for one of its nodes (portal.dispatch.exchange): recorded
    as that node's table and counted in every level above; the same key again is answered with the
    first record (200) and counts once."""
    _require("dispatch.fill")
    sub, receipt, recorded = exchange.receive(g.membership, g.api_token.id, _body())
    response = jsonify({"id": sub.id, "node_id": sub.tenant_id, "division": sub.tenant.code,
                        "table": sub.definition.uid, "period_end": sub.period_end.isoformat(), "status": sub.status,
                        "key": receipt.key, "digest": receipt.digest, "received_at": receipt.received_at.isoformat(),
                        "duplicate": not recorded})
    response.status_code = 201 if recorded else 200
    return response


# ---------------------------------------------------------------- the description

@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@bp.get("/docs")
def docs():
    """The API's description, rendered here from the same document (no script, nothing fetched)."""
    return render("api/docs.html", doc=openapi.document())


# ---------------------------------------------------------------- tokens, managed on the unit's page

pages = Blueprint("api_tokens", __name__)


@pages.route("/tenants/<int:tenant_id>/api-tokens", methods=["GET", "POST"])
@login_required
@requires("api.manage")
def tokens(tenant_id):
    unit = get_managed_or_404(tenant_id)
    secret, error = None, None
    if request.method == "POST":
        form = TokenForm()
        form.role.choices = choices((r, ROLES[r]) for r in service.roles_for(unit))
        if form.validate_on_submit():
            made, error = attempt(lambda: service.create(unit, g.membership, name=form.name.data, role=form.role.data))
            secret = made[1] if made else None
        else:
            error = next(e for errs in form.errors.values() for e in errs)
    form = TokenForm(formdata=None)
    form.role.choices = choices((r, ROLES[r]) for r in service.roles_for(unit))
    return render("api/tokens.html", unit=unit, form=form, tokens=service.tokens_of(unit), secret=secret,
                  error=error, status=422 if error else (201 if secret else 200))


@pages.post("/tenants/<int:tenant_id>/api-tokens/<int:token_id>/revoke")
@login_required
@requires("api.manage")
def revoke(tenant_id, token_id):
    unit = get_managed_or_404(tenant_id)
    token = get_scoped_or_404(ApiToken, token_id)
    if token.tenant_id != unit.id:
        abort(404)
    _, error = attempt(lambda: service.revoke(token, g.membership))
    flash(error or f"已吊销令牌“{token.name}”，使用它的调用从此被拒绝。", "error" if error else "success")
    return redirect(url_for("api_tokens.tokens", tenant_id=unit.id), code=303)
