"""Dispatch pages: a node's table with its board of units, typing and submitting, approving and
returning, reminders, drill-down, a metric's history and the exports."""
from __future__ import annotations

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_login import login_required
from sqlalchemy import select

from portal.dispatch import exchange, periods, service
from portal.dispatch.forms import DefinitionForm, ExportForm, ReturnForm, manual_form, manual_values
from portal.dispatch.models import ReportDefinition, ReportSubmission
from portal.errors import Refused
from portal.exports import jobs
from portal.extensions import db
from portal.plans import service as plans
from portal.plans.models import Campaign
from portal.web import attempt, can, render, requires
from tenants import clock
from tenants.models import Tenant
from tenants.scope import get_managed_or_404, get_scoped_or_404

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")
# Records listed under a figure; beyond them the hazard ledger (same filter) pages through all.
RECORDS_SHOWN = 500


def _load(definition_id, tenant_id) -> tuple[ReportDefinition, Tenant]:
    definition = get_scoped_or_404(ReportDefinition, definition_id)
    # Figures are read for nodes inside the user's own subtree only.
    tenant = get_managed_or_404(tenant_id)
    if definition.tenant_id not in tenant.ancestor_ids + [tenant.id]:
        abort(404)
    # A link to an earlier version (a reminder sent before the change) opens the table in force;
    # a period filed on the earlier version still shows its rows (_page).
    return service.current(definition), tenant


def _period(definition):
    try:
        return service.parse_period(definition, request.values.get("period")), None
    except Refused as e:
        return service.current_period(definition), str(e)


@bp.get("/")
@login_required
def index():
    unit = g.membership.tenant
    in_force = service.definitions_for(unit)
    return render("dispatch/index.html", unit=unit, definitions=in_force,
                  reporting=[d.id for d in service.reporting_definitions(unit, in_force)], describe=periods.describe,
                  fillers=service.FILLERS, fillers_below=service.FILLERS_BELOW)


def _definition_form(owner: Tenant, spec: service.TableSpec | None = None) -> DefinitionForm:
    form = DefinitionForm() if spec is None else DefinitionForm(
        formdata=None, name=spec.name, period=spec.period, due_weekday=spec.due_day if spec.period == "week" else 1,
        due_time=spec.due_time, due_day=spec.due_day if spec.period != "week" else None, due_month=spec.due_month,
        starts_on=spec.starts_on, ends_on=spec.ends_on, cumulative=spec.cumulative, fillers=spec.fillers,
        rows=spec.rows, notes=spec.notes, parent_id=spec.parent.id if spec.parent else None)
    form.campaign_id.choices = [(c.id, f"{c.name}（{c.starts_on} 至 {c.ends_on}）") for c in plans.campaigns()]
    form.parent_id.choices = [("", "不继承，自行选择各行")] + [
        (d.id, f"{d.tenant.name}：{d.name}") for d in service.definitions_for(owner) if d.tenant_id != owner.id]
    form.fillers.choices = [(k, service.FILLERS[k]) for k in service.FILLERS_BELOW.get(owner.kind, ())]
    form.rows.choices = [(code, m.label) for code, m in service.METRICS.items()]
    return form


def _spec(form: DefinitionForm) -> service.TableSpec:
    week = form.period.data == "week"
    parent = get_scoped_or_404(ReportDefinition, form.parent_id.data) if form.parent_id.data else None
    return service.TableSpec(
        name=form.name.data, rows=form.rows.data, parent=parent, period=form.period.data,
        due_day=form.due_weekday.data if week else form.due_day.data, due_month=form.due_month.data,
        due_time=form.due_time.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
        cumulative=form.cumulative.data, fillers=form.fillers.data, notes=form.notes.data or "")


def _definition_page(form, owner, definition=None, error=None):
    status = 422 if error or form.errors else 200
    return render("dispatch/definition.html", status=status, form=form, owner=owner, definition=definition,
                  catalogue=service.catalogue(), error=error or ("提交的内容有误，请按提示修改。" if form.errors else None),
                  inherited=set(service.codes(service.current(definition.parent))) if definition and definition.parent
                  else set(), filed=service.filed(definition) if definition else False)


@bp.route("/definitions/new", methods=["GET", "POST"])
@login_required
@requires("dispatch.define")
def new_definition():
    """A level composes a table for the units below it from the catalogue of rows."""
    owner = g.membership.tenant
    if owner.kind not in service.FILLERS_BELOW:
        abort(404)
    form = _definition_form(owner)
    if request.method == "GET":
        return _definition_page(form, owner)
    if not form.validate():
        return _definition_page(form, owner)
    campaign = db.session.get(Campaign, form.campaign_id.data) if form.campaign_id.data else None
    if campaign is None:
        return _definition_page(form, owner, error="请选择专项行动。")
    definition, error = attempt(lambda: service.create_definition(owner, campaign, _spec(form), actor=g.membership))
    if error:
        return _definition_page(form, owner, error=error)
    return redirect(url_for("dispatch.table", definition_id=definition.id, tenant_id=owner.id), code=303)


@bp.route("/definitions/<int:definition_id>/edit", methods=["GET", "POST"])
@login_required
@requires("dispatch.define")
def edit_definition(definition_id):
    """Change a table; once units have filed on it the change is a new version."""
    definition = get_scoped_or_404(ReportDefinition, definition_id)
    owner = g.membership.tenant
    if definition.tenant_id != owner.id:
        abort(404)
    if request.method == "GET":
        return _definition_page(_definition_form(owner, service.spec_of(definition)), owner, definition)
    form = _definition_form(owner)
    form.campaign_id.data = definition.campaign_id
    if not form.validate():
        return _definition_page(form, owner, definition)
    changed, error = attempt(lambda: service.change_definition(definition, _spec(form), g.membership))
    if error:
        return _definition_page(form, owner, definition, error=error)
    return redirect(url_for("dispatch.table", definition_id=changed.id, tenant_id=owner.id), code=303)


def _page(definition, tenant, period, *, error=None, status=200, form=None, return_form=None, block=None):
    today = clock.today()
    sub = service.submission(definition, tenant, period)
    own = tenant.id == g.membership.tenant_id
    fills = own and can("dispatch.fill") and service.fills(definition, tenant)
    # A period filed on an earlier version of the table shows the rows it was filed with.
    filed_on = sub.definition if sub is not None and sub.status not in ("draft", "returned") else definition
    locked = sub is not None and bool(sub.figures)
    if locked:
        figures, as_of = service.thawed(sub.figures), None
    else:
        figures, as_of = service.shown(definition, tenant, period)
    manual_rows = [(code, label) for _, _, _, code, label, m in service.layout_rows(filed_on) if m.manual]
    if form is None and fills:
        form = manual_form(manual_rows, {k: service.display(k, v) for k, v in service.manual_values(sub).items()})
    superseded = db.session.get(ReportSubmission, sub.superseded_by_id) if sub and sub.superseded_by_id else None
    board = service.board(definition, tenant, period)
    # The desk links to the units in one state (未报, 逾期): the board shows only those.
    board_state = request.args.get("board") if request.method == "GET" else None
    if board_state in service.BOARD:
        board = [row for row in board if row.state == board_state]
    else:
        board_state = None
    # A table this platform's top unit sends to the parent platform: its own leaders approve it
    # here, and the page follows it on its way up.
    self_review = (sub is not None and sub.status == "submitted" and own and can("dispatch.review")
                   and service.sent_up(sub))
    return render("dispatch/table.html", block, status, definition=definition, tenant=tenant, period=period,
                  upward=service.upward_report(sub), receipt=service.receipt(sub), self_review=self_review,
                  periods=service.periods(definition, today), sub=sub, figures=figures, as_of=as_of,
                  rows=list(service.layout_rows(filed_on)), filed_on=filed_on, levels=service.LEVELS, fills=fills,
                  form=form,
                  board=board, board_state=board_state, BOARD=service.BOARD, return_form=return_form or ReturnForm(), export_form=ExportForm(),
                  superseded=superseded, error=error, display=service.display, today=today,
                  kept=tenant.kind in service.KEPT_KINDS and not locked)


@bp.get("/<int:definition_id>/units/<int:tenant_id>")
@login_required
def table(definition_id, tenant_id):
    definition, tenant = _load(definition_id, tenant_id)
    period, error = _period(definition)
    return _page(definition, tenant, period, error=error, status=422 if error else 200)


def _own(definition_id, tenant_id):
    definition, tenant = _load(definition_id, tenant_id)
    if tenant.id != g.membership.tenant_id:
        abort(404)
    try:
        period = service.parse_period(definition, request.values.get("period"))
    except Refused as e:
        return definition, tenant, None, str(e)
    return definition, tenant, period, None


@bp.post("/<int:definition_id>/units/<int:tenant_id>/figures")
@login_required
@requires("dispatch.fill")
def figures(definition_id, tenant_id):
    definition, tenant, period, error = _own(definition_id, tenant_id)
    manual_rows = [(code, label) for _, _, _, code, label, m in service.layout_rows(definition) if m.manual]
    form = manual_form(manual_rows, {}, request.form)
    if error is None:
        if not form.validate():
            error = "提交的内容有误，请按提示修改。"
        else:
            _, error = attempt(lambda: service.save_manual(definition, tenant, period, manual_values(form),
                                                           actor=g.membership))
    if error:
        return _page(definition, tenant, period or service.current_period(definition), error=error, status=422,
                     form=form)
    return redirect(url_for("dispatch.table", definition_id=definition.id, tenant_id=tenant.id, period=period.key),
                    code=303)


@bp.post("/<int:definition_id>/units/<int:tenant_id>/submit")
@login_required
@requires("dispatch.fill")
def submit(definition_id, tenant_id):
    definition, tenant, period, error = _own(definition_id, tenant_id)
    if error is None:
        _, error = attempt(lambda: service.submit(definition, tenant, period, g.membership))
    if error:
        return _page(definition, tenant, period or service.current_period(definition), error=error, status=422)
    return redirect(url_for("dispatch.table", definition_id=definition.id, tenant_id=tenant.id, period=period.key),
                    code=303)


def _decide(submission_id, action):
    sub = get_scoped_or_404(ReportSubmission, submission_id)
    parent = g.membership.tenant
    period = service.period_of(sub.definition, sub.period_end)
    result, error = action(sub)
    if error:
        return _page(sub.definition, parent, period, error=error, status=422,
                     return_form=ReturnForm(formdata=request.form))
    # A table its own leaders decided (it goes to the parent platform) is followed on its way up.
    anchor = "#upward" if sub.tenant_id == parent.id else "#board"
    return redirect(url_for("dispatch.table", definition_id=sub.definition_id, tenant_id=parent.id,
                            period=period.key) + anchor, code=303)


def _send_up(sub: ReportSubmission) -> None:
    """Try the way up at once, so a reachable parent has the table before the page comes back;
    an unreachable one is tried again by the scheduler (exchange.deliver)."""
    report = service.upward_report(sub)
    if report is not None:
        exchange.deliver(only=report.id)


@bp.post("/submissions/<int:submission_id>/approve")
@login_required
@requires("dispatch.review")
def approve(submission_id):
    def act(sub):
        result, error = attempt(lambda: service.approve(sub, g.membership))
        if error is None:
            _send_up(sub)
        return result, error
    return _decide(submission_id, act)


@bp.post("/submissions/<int:submission_id>/upward/retry")
@login_required
@requires("dispatch.review")
def retry_upward(submission_id):
    """重新上报: a table whose way up failed is sent again now, its attempts starting over."""
    sub = get_scoped_or_404(ReportSubmission, submission_id)
    report = service.upward_report(sub)
    if report is None or sub.tenant_id != g.membership.tenant_id:
        abort(404)
    _, error = attempt(lambda: exchange.retry(report, g.membership))
    period = service.period_of(sub.definition, sub.period_end)
    if error:
        return _page(service.current(sub.definition), sub.tenant, period, error=error, status=422)
    _send_up(sub)
    return redirect(url_for("dispatch.table", definition_id=sub.definition_id, tenant_id=sub.tenant_id,
                            period=period.key) + "#upward", code=303)


@bp.post("/submissions/<int:submission_id>/return")
@login_required
@requires("dispatch.review")
def return_(submission_id):
    def act(sub):
        form = ReturnForm()
        if not form.validate():
            return None, "退回时请写明原因（最多 500 字）。"
        return attempt(lambda: service.return_(sub, g.membership, form.reason.data))
    return _decide(submission_id, act)


@bp.post("/<int:definition_id>/units/<int:tenant_id>/remind")
@login_required
@requires("dispatch.review")
def remind(definition_id, tenant_id):
    definition, tenant, period, error = _own(definition_id, tenant_id)
    if error is None:
        urged, error = attempt(lambda: service.remind(definition, tenant, period, g.membership))
    if error:
        return _page(definition, tenant, period or service.current_period(definition), error=error, status=422)
    return redirect(url_for("dispatch.table", definition_id=definition.id, tenant_id=tenant.id, period=period.key)
                    + "#board", code=303)


@bp.post("/<int:definition_id>/units/<int:tenant_id>/export")
@login_required
@requires("dispatch.export")
def export(definition_id, tenant_id):
    definition, tenant = _load(definition_id, tenant_id)
    form = ExportForm()
    try:
        period = service.parse_period(definition, request.values.get("period"))
    except Refused as e:
        return _page(definition, tenant, service.current_period(definition), error=str(e), status=422)
    if not form.validate():
        return _page(definition, tenant, period, error="请选择导出格式。", status=422)
    doc, error = attempt(lambda: service.request_export(definition, tenant, period, form.file_type.data,
                                                        form.children.data, actor=g.membership))
    if error:
        return _page(definition, tenant, period, error=error, status=422)
    jobs.submit(doc.id, g.membership.id)
    return redirect(url_for("exports.show", doc_id=doc.id), code=303)


@bp.get("/<int:definition_id>/units/<int:tenant_id>/rows/<code>")
@login_required
def drill(definition_id, tenant_id, code):
    """What makes one number: the figure of each unit below, and the records themselves."""
    definition, tenant = _load(definition_id, tenant_id)
    if code not in service.METRICS and code not in service.SECOND:
        abort(404)
    period, error = _period(definition)
    start, end = service.span(definition, period)
    units = [(child, service.shown(definition, child, period)[0].get(code))
             for child in db.session.execute(select(Tenant).where(Tenant.parent_id == tenant.id,
                                                                  Tenant.kind != "enterprise")
                                             .order_by(Tenant.id)).scalars()]
    own = service.submission(definition, tenant, period)
    figures, as_of = service.shown(definition, tenant, period)
    return render("dispatch/drill.html", definition=definition, tenant=tenant, period=period, code=code,
                  metric=service.METRICS.get(code) or service.METRICS[service.SECOND[code][0]],
                  value=figures.get(code), as_of=as_of, units=units, start=start, end=end,
                  records=service.records(tenant, code, start, end), shown=RECORDS_SHOWN,
                  received=service.received_units(tenant, start, end),
                  own=service.manual_values(own).get(code), display=service.display, error=error)


@bp.get("/<int:definition_id>/units/<int:tenant_id>/history/<code>")
@login_required
def history(definition_id, tenant_id, code):
    definition, tenant = _load(definition_id, tenant_id)
    try:
        points = service.series(definition, tenant, code)
    except Refused:
        abort(404)
    metric = service.METRICS.get(code) or service.METRICS[service.SECOND[code][0]]
    return render("dispatch/history.html", definition=definition, tenant=tenant, code=code, metric=metric,
                  points=points, display=service.display)
