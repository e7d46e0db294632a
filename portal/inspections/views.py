"""Inspection records: list, new, the record page with its parts while a draft, signing,
amendments, the signed record's PDF; accidents."""
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_login import current_user, login_required

from portal.exports import jobs
from portal.extensions import db
from portal.forms import choices
from portal.hazards import service as hazards
from portal.inspections import service
from portal.inspections.forms import (AccidentForm, ActionForm, AmendForm, EditForm, FindingForm, FoundHazardForm,
                                      InspectionForm, ItemsForm, RemoveForm, SignForm)
from portal.inspections.models import FINDINGS, KINDS, STATUSES, Accident, Inspection
from portal.uploads.service import read_limited
from portal.web import attempt, can, form_status, paginate, render, requires
from tenants import clock
from tenants import service as tenants
from tenants.models import Tenant
from tenants.scope import current_scope, get_covered_or_404, get_scoped_or_404

bp = Blueprint("inspections", __name__)


def _days(args) -> tuple[date | None, date | None, str | None]:
    """(start, end, error) of the visit days asked for: a bad date is a message, not a 500."""
    try:
        start, end = (date.fromisoformat(args[k]) if args.get(k) else None for k in ("start", "end"))
    except ValueError:
        return None, None, "检查日期格式应为 年-月-日，如 2024-06-30。"
    if start and end and start > end:
        return None, None, "开始日期不能晚于结束日期。"
    return start, end, None


@bp.get("/inspections/")
@login_required
def index():
    args = request.args
    q, kind, state = args.get("q", "").strip()[:100], args.get("kind", ""), args.get("status", "")
    finding = args.get("finding", "")
    # The dispatch drill-down asks for the records behind a number: done by a unit's subtree.
    within, by_unit = (get_covered_or_404(args["within"]) if args.get("within") else None), args.get("by_unit") == "1"
    start, end, error = _days(args)
    listed = service.listing(q, kind, state, within=within, by_unit=by_unit, finding=finding, start=start, end=end)
    page = paginate(listed)
    mine = db.session.execute(service.awaiting_signature(current_user)).scalars().all()
    return render("inspections/index.html", "rows", 422 if error else 200, page=page, q=q, kind=kind, state=state,
                  finding=finding, within=within, by_unit=by_unit, start=start, end=end, error=error, mine=mine,
                  enterprises=service.enterprises_visited(listed) if kind == "spot" else None,
                  KINDS=KINDS, STATUSES=STATUSES, FINDINGS=FINDINGS)


@bp.get("/inspections/new")
@login_required
@requires("inspections.write")
def choose():
    """Pick the enterprise (or lower level) to inspect, by name or credit code."""
    q = request.args.get("q", "").strip()[:100]
    page = paginate(tenants.search(q)) if q else None
    return render("inspections/choose.html", "targets", q=q, page=page)


def _inspector_choices(form, unit: Tenant) -> None:
    form.inspector_ids.choices = choices(
        (u.id, f"{u.display_name}（{u.post or u.username}）")
        for u in db.session.execute(service.inspectors_of(unit)).scalars())


@bp.route("/tenants/<int:tenant_id>/inspections/new", methods=["GET", "POST"])
@login_required
@requires("inspections.write")
def create(tenant_id):
    target = get_covered_or_404(tenant_id)
    form = InspectionForm()
    if request.method == "GET":
        form.inspector_ids.data = [current_user.id]
        form.kind.data = "enforcement" if target.kind == "enterprise" else "assist"
        form.inspected_on.data = clock.today()
    _inspector_choices(form, g.membership.tenant)
    error = None
    if form.validate_on_submit():
        inspection, error = attempt(lambda: service.create(
            g.membership, target, kind=form.kind.data, inspected_on=form.inspected_on.data,
            inspector_ids=form.inspector_ids.data, partners=form.partners.data, notes=form.notes.data,
            request_key=form.request_key.data))
        if error is None:
            flash(f"已新建检查记录（第 {inspection.id} 号）。请登记检查事项、发现的问题和执法措施，再由检查人员签名。",
                  "success")
            return redirect(url_for("inspections.show", inspection_id=inspection.id))
    return render("inspections/new.html", target=target, form=form, error=error, status=form_status())


@bp.get("/inspections/<int:inspection_id>")
@login_required
def show(inspection_id):
    return _show(get_scoped_or_404(Inspection, inspection_id))


def _show(inspection: Inspection, status: int = 200, error: str | None = None, **forms):
    """The record page; a form that failed comes back in `forms` with its messages."""
    writer = can("inspections.write") and g.membership.tenant_id == inspection.unit_id
    context = dict(inspection=inspection, error=error, writer=writer, intact=service.intact(inspection),
                   original=inspection.amends, amendments=inspection.amendments, checked_items=service.checked_items)
    if writer and not inspection.locked:
        items = service.applicable_items(inspection)
        items_form = forms.get("items_form") or ItemsForm(
            formdata=None, item_ids=[c.standard_item_id for c in inspection.checked_items])
        items_form.item_ids.choices = choices((i.id, f"{i.cited}：{i.text}") for i in items)
        hazard_form = forms.get("hazard_form") or FoundHazardForm(formdata=None)
        hazard_form.item_id.choices = choices([("", "—（一般隐患可不选）")] + [
            (str(i.id), f"{i.cited}：{i.text[:60]}") for i in items])
        action_form = forms.get("action_form") or ActionForm(formdata=None, decided_on=inspection.inspected_on)
        action_form.hazard_id.choices = choices([("", "—（不针对具体隐患）")] + [
            (str(h.id), f"{h.id} {h.level_label}：{h.description[:40]}"
                        + ("（企业自查，依法不予处罚）" if service.penalty_exempt(h, inspection.inspected_on) else ""))
            for h in service.enterprise_hazards(inspection)])
        context.update(edit_form=forms.get("edit_form") or EditForm(formdata=None, obj=inspection),
                       items_form=items_form, hazard_form=hazard_form, action_form=action_form,
                       finding_form=forms.get("finding_form") or FindingForm(formdata=None),
                       remove_form=RemoveForm(formdata=None))
    pending = next((s for s in inspection.signatures if s.user_id == current_user.id and s.signed_at is None), None)
    if pending is not None:
        context["sign_form"] = forms.get("sign_form") or SignForm(formdata=None, signer_id=current_user.id)
    if writer and inspection.signed and inspection.amends_id is None:
        amend_form = forms.get("amend_form") or AmendForm(formdata=None, inspector_ids=[current_user.id])
        _inspector_choices(amend_form, g.membership.tenant)
        context["amend_form"] = amend_form
    return render("inspections/show.html", status=status, **context)


def _done(inspection: Inspection, message: str):
    flash(message, "success")
    return redirect(url_for("inspections.show", inspection_id=inspection.id))


def _step(inspection: Inspection, form, form_name: str, action, message: str):
    """Validate `form`, run the service `action`, and show the record again: refreshed on success,
    with the form's messages (422) otherwise."""
    error = None
    if form.validate_on_submit():
        _, error = attempt(action)
        if error is None:
            return _done(inspection, message)
    return _show(inspection, status=422, error=error, **{form_name: form})


def _writable_or_404(inspection_id) -> Inspection:
    inspection = get_scoped_or_404(Inspection, inspection_id)
    if g.membership.tenant_id != inspection.unit_id:
        abort(403, f"只有检查单位（{inspection.unit_name}）的人员可以修改本记录。")
    return inspection


@bp.post("/inspections/<int:inspection_id>/edit")
@login_required
@requires("inspections.write")
def edit(inspection_id):
    inspection = _writable_or_404(inspection_id)
    form = EditForm()
    return _step(inspection, form, "edit_form", lambda: service.update(
        inspection, g.membership, inspected_on=form.inspected_on.data, partners=form.partners.data or "",
        notes=form.notes.data or ""), "已保存。")


@bp.post("/inspections/<int:inspection_id>/items")
@login_required
@requires("inspections.write")
def items(inspection_id):
    inspection = _writable_or_404(inspection_id)
    form = ItemsForm()
    return _step(inspection, form, "items_form", lambda: service.set_items(inspection, g.membership, form.item_ids.data),
                 "已保存检查事项。")


@bp.post("/inspections/<int:inspection_id>/hazards")
@login_required
@requires("inspections.write")
def hazard(inspection_id):
    inspection = _writable_or_404(inspection_id)
    form = FoundHazardForm()
    form.item_id.choices = []
    finding = hazards.Finding(
        level=form.level.data, description=form.description.data, location=form.location.data or "", found_at=None,
        item_id=form.item_id.data, on_the_spot=form.on_the_spot.data,
        fixes=hazards.Fixes(owner=form.fix_owner.data or "", measures=form.fix_measures.data or "",
                            funds=form.fix_funds.data, deadline=form.fix_deadline.data,
                            contingency=form.fix_contingency.data or ""))
    photos = [(f.filename, read_limited(f.stream)) for f in request.files.getlist("photos") if f and f.filename]
    return _step(inspection, form, "hazard_form",
                 lambda: service.record_hazard(inspection, g.membership, finding, photos,
                                               request_key=form.request_key.data),
                 "已登记隐患，已列入隐患台账（来源：部门检查）。")


@bp.post("/inspections/<int:inspection_id>/findings")
@login_required
@requires("inspections.write")
def finding(inspection_id):
    inspection = _writable_or_404(inspection_id)
    form = FindingForm()
    return _step(inspection, form, "finding_form",
                 lambda: service.add_finding(inspection, g.membership, form.code.data, form.remark.data),
                 "已登记抽查发现。")


@bp.post("/inspections/<int:inspection_id>/actions")
@login_required
@requires("inspections.write")
def action(inspection_id):
    inspection = _writable_or_404(inspection_id)
    form = ActionForm()
    data = service.ActionInput(
        kind=form.kind.data, decided_on=form.decided_on.data, hazard_id=form.hazard_id.data, amount=form.amount.data,
        persons=form.persons.data, person_names=form.person_names.data or "",
        document_number=form.document_number.data or "", note=form.note.data or "",
        override_reason=form.override_reason.data or "", published_case=form.published_case.data,
        dangerous_operation_crime=form.dangerous_operation_crime.data)
    return _step(inspection, form, "action_form", lambda: service.add_action(inspection, g.membership, data),
                 "已登记执法措施。")


@bp.post("/inspections/<int:inspection_id>/remove")
@login_required
@requires("inspections.write")
def remove(inspection_id):
    inspection = _writable_or_404(inspection_id)
    form = RemoveForm()
    return _step(inspection, form, "remove_form",
                 lambda: service.remove_part(inspection, g.membership, form.part.data, form.part_id.data), "已删除。")


@bp.post("/inspections/<int:inspection_id>/sign")
@login_required
def sign(inspection_id):
    inspection = get_scoped_or_404(Inspection, inspection_id)
    form = SignForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.sign(inspection, form.signer_id.data, current_user, form.password.data))
        if error is None:
            return _done(inspection, "已签名。全部检查人员签名后记录生效，不能再修改。" if not inspection.signed
                         else "已签名，全部检查人员均已签名，记录已生效。")
    form.signer_id.data = current_user.id
    return _show(inspection, status=422, error=error, sign_form=form)


@bp.post("/inspections/<int:inspection_id>/amend")
@login_required
@requires("inspections.write")
def amend(inspection_id):
    inspection = _writable_or_404(inspection_id)
    form = AmendForm()
    _inspector_choices(form, g.membership.tenant)
    error = None
    if form.validate_on_submit():
        amendment, error = attempt(lambda: service.amend(inspection, g.membership, notes=form.notes.data,
                                                         inspector_ids=form.inspector_ids.data))
        if error is None:
            return _done(amendment, "已新建更正记录，将与原记录并列显示；请补充更正内容后由检查人员签名。")
    return _show(inspection, status=422, error=error, amend_form=form)


@bp.post("/inspections/<int:inspection_id>/export")
@login_required
def export(inspection_id):
    inspection = get_scoped_or_404(Inspection, inspection_id)
    doc, error = attempt(lambda: service.request_record(inspection, current_scope(), actor=g.membership))
    if error:
        return _show(inspection, status=422, error=error)
    jobs.submit(doc.id, g.membership.id)
    return redirect(url_for("exports.show", doc_id=doc.id), code=303)


# --- Accidents -----------------------------------------------------------------------------------

@bp.get("/accidents/")
@login_required
def accidents():
    try:
        since = date.fromisoformat(request.args["since"]) if request.args.get("since") else None
    except ValueError:
        abort(422, "日期格式应为 年-月-日，例如 2024-06-30。")
    pending = request.args.get("pending") == "1"
    page = paginate(service.accidents(since=since, pending=pending))
    return render("inspections/accidents.html", "rows", page=page, since=since, pending=pending)


def _accident_form(enterprise: Tenant, save, done: str, reporting: bool = False):
    """The accident form, recorded by a government unit or reported by the enterprise itself."""
    form = AccidentForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: save(occurred_on=form.occurred_on.data, kind=form.kind.data,
                                        deaths=form.deaths.data, injuries=form.injuries.data,
                                        summary=form.summary.data))
        if error is None:
            flash(done, "success")
            return redirect(url_for("inspections.accidents"), 303)
    return render("inspections/accident_new.html", enterprise=enterprise, form=form, error=error, reporting=reporting,
                  status=form_status())


@bp.route("/accidents/report", methods=["GET", "POST"])
@login_required
@requires("accidents.report")
def report_accident():
    """An enterprise reports its own accident to its township or street."""
    enterprise = g.membership.tenant
    if enterprise.kind != "enterprise":
        abort(404)
    return _accident_form(enterprise, lambda **values: service.report_accident(g.membership, **values),
                          f"已报告{service.confirmer(enterprise).name}，等待确认。", reporting=True)


@bp.post("/accidents/<int:accident_id>/confirm")
@login_required
@requires("accidents.record")
def confirm_accident(accident_id):
    accident = get_scoped_or_404(Accident, accident_id)
    _, error = attempt(lambda: service.confirm_accident(g.membership, accident))
    flash(error or f"已确认{accident.tenant.name}的事故报告。", "error" if error else "success")
    return redirect(url_for("inspections.accidents"), 303)


@bp.route("/tenants/<int:tenant_id>/accidents/new", methods=["GET", "POST"])
@login_required
@requires("accidents.record")
def new_accident(tenant_id):
    enterprise = get_covered_or_404(tenant_id)
    if enterprise.kind != "enterprise":
        abort(404)
    return _accident_form(enterprise, lambda **values: service.record_accident(g.membership, enterprise, **values),
                          "已登记事故。可在倒查页面查看事故前的检查、隐患和督办情况。")
