"""Pages of responsibility lists: a unit's lists and duties, templates, one version of a list with
its answers, duty records, special-operation workers, and the overview for the levels above."""
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from portal.checklists import service
from portal.checklists.forms import (DUTY_FORMS, DueForm, EntryForm, EvidenceForm, FilterForm, ItemForm, RenewForm,
                                     SignForm, WorkerForm)
from portal.checklists.models import (DATE_LABELS, DUTIES, ENTERPRISE_LISTS, EVIDENCE, KINDS, OVERVIEW_STATES,
                                      STATES, ChecklistFill, ChecklistItem, DutyRecord, SpecialWorker)
from portal.exports import jobs
from portal.extensions import db
from portal.forms import choices
from portal.uploads import service as uploads
from portal.uploads.models import Upload
from portal.web import attempt, can, form_status, is_htmx, kept_rows, paginate, render, requires
from tenants import clock
from tenants import service as tenants
from tenants.models import INDUSTRIES, Tenant
from tenants.scope import get_covered_or_404, get_scoped_or_404

bp = Blueprint("checklists", __name__, url_prefix="/checklists")
PER_PAGE = 50
DUTY_CHOICES = 20  # a duty item offers the latest records of its kind; older ones are on the duty page


def _own(unit: Tenant) -> None:
    """Lists and duty records are written by the unit's own people; the levels above read them."""
    if g.membership.tenant_id != unit.id:
        abort(403, "只有本单位人员可以填写本单位的清单和履职记录。")


def _files(field) -> list[tuple[str, bytes]]:
    # A form posted without multipart encoding carries names, not files: nothing to store.
    return [(f.filename, uploads.read_limited(f.stream)) for f in field.data or []
            if isinstance(f, FileStorage) and f.filename]


def _form_error(form) -> str:
    return next((e for errors in form.errors.values() for e in errors), "提交的内容有误，请按提示修改。")


@bp.get("/")
@login_required
def index():
    if g.membership is None:
        abort(404)
    return redirect(url_for("checklists.unit", tenant_id=g.membership.tenant_id))


@bp.get("/units/<int:tenant_id>")
@login_required
def unit(tenant_id):
    unit = get_covered_or_404(tenant_id)
    own = g.membership.tenant_id == unit.id
    today = clock.today()
    enterprise = unit.kind == "enterprise"
    return render("checklists/unit.html", unit=unit, own=own, today=today, ancestors=tenants.ancestors(unit),
                  lists=service.unit_summary(unit),
                  # The enterprise hears everything first; the levels above see the failures kept for them.
                  findings=service.evaluate(unit, today) if enterprise and own else None,
                  kept=service.open_findings(unit),
                  counts=service.duty_counts(unit, today) if enterprise else {},
                  template_kinds=[k for k in KINDS if service.can_own(unit, k)], DUTIES=DUTIES, KINDS=KINDS)


# ---------------------------------------------------------------- templates

def _template_page(unit, kind, *, item_form=None, due_form=None, error=None, status=200):
    return render("checklists/template.html", unit=unit, kind=kind, items=service.effective_items(unit, kind),
                  due=service.due_on(unit, kind), editable=g.membership.tenant_id == unit.id
                  and can("checklists.templates") and service.can_own(unit, kind),
                  item_form=item_form or ItemForm(), due_form=due_form or DueForm(), evidence_form=EvidenceForm(),
                  error=error, ancestors=tenants.ancestors(unit), KINDS=KINDS, EVIDENCE=EVIDENCE,
                  ENTERPRISE_LISTS=ENTERPRISE_LISTS, status=status)


def _template_unit(tenant_id, list_kind) -> Tenant:
    unit = get_covered_or_404(tenant_id)
    if not service.can_own(unit, list_kind):
        abort(404)
    return unit


@bp.get("/units/<int:tenant_id>/templates/<list_kind>")
@login_required
def template(tenant_id, list_kind):
    return _template_page(_template_unit(tenant_id, list_kind), list_kind)


@bp.post("/units/<int:tenant_id>/templates/<list_kind>/items")
@login_required
@requires("checklists.templates")
def add_item(tenant_id, list_kind):
    unit = _template_unit(tenant_id, list_kind)
    _own(unit)
    form = ItemForm()
    error = None
    if form.validate_on_submit():
        item, error = attempt(lambda: service.add_item(unit, list_kind, title=form.title.data, body=form.body.data,
                                                       evidence=form.evidence.data, duty=form.duty.data,
                                                       actor=g.membership))
        if error is None:
            flash(f"已添加事项“{item.title}”，本单位及下级单位的清单中都有了这一项。", "success")
            return redirect(url_for("checklists.template", tenant_id=unit.id, list_kind=list_kind))
    return _template_page(unit, list_kind, item_form=form, error=error, status=422)


@bp.post("/units/<int:tenant_id>/templates/<list_kind>/items/<int:item_id>/evidence")
@login_required
@requires("checklists.templates")
def require_evidence(tenant_id, list_kind, item_id):
    unit = _template_unit(tenant_id, list_kind)
    _own(unit)
    item = get_scoped_or_404(ChecklistItem, item_id)
    form = EvidenceForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.require_evidence(unit, item, form.evidence.data, actor=g.membership))
        if error is None:
            flash(f"已将“{item.title}”的证明材料要求设为“{EVIDENCE[form.evidence.data]}”。", "success")
            return redirect(url_for("checklists.template", tenant_id=unit.id, list_kind=list_kind))
    return _template_page(unit, list_kind, error=error or _form_error(form), status=422)


@bp.post("/units/<int:tenant_id>/templates/<list_kind>/due")
@login_required
@requires("checklists.templates")
def set_due(tenant_id, list_kind):
    unit = _template_unit(tenant_id, list_kind)
    _own(unit)
    form = DueForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.set_due(unit, list_kind, form.due_on.data, actor=g.membership))
        if error is None:
            flash(f"已设定签署期限：{form.due_on.data:%Y-%m-%d}。", "success")
            return redirect(url_for("checklists.template", tenant_id=unit.id, list_kind=list_kind))
    return _template_page(unit, list_kind, due_form=form, error=error, status=422)


@bp.post("/items/<int:item_id>/remove")
@login_required
@requires("checklists.templates")
def remove_item(item_id):
    item = get_scoped_or_404(ChecklistItem, item_id)
    unit = g.membership.tenant
    kind = item.template.kind
    _, error = attempt(lambda: service.remove_item(unit, item, actor=g.membership))
    if error is None:
        flash(f"已删除事项“{item.title}”。已签署的版本仍保留该事项。", "success")
        return redirect(url_for("checklists.template", tenant_id=unit.id, list_kind=kind))
    return _template_page(unit, kind, error=error, status=422)


# ---------------------------------------------------------------- a list, version by version

def _fill_page(unit, kind, fill, *, forms=None, row_errors=None, sign_form=None, error=None, status=200,
               block=None, rows=None, row=None, saved=None):
    own = g.membership.tenant_id == unit.id
    editable = bool(fill) and own and can("checklists.fill") and fill.is_current and not fill.signed
    rows = service.rows_of(fill) if fill and rows is None else rows
    if rows is None:
        rows = [{"no": li.number, "item_id": li.item.id, "owner": li.owner_name, "title": li.item.title,
                 "body": li.item.body, "evidence": li.evidence, "files": []}
                for li in service.effective_items(unit, kind)]
    forms = forms or {}
    if editable:
        for r in rows:
            forms.setdefault(r["item_id"], EntryForm(prefix=f"i{r['item_id']}", data={
                "responsible_name": r["responsible_name"], "responsible_post": r["responsible_post"],
                "state": r["state"] or "", "evidence_text": r["evidence_text"],
                "evidence_date": r["evidence_date"] and date.fromisoformat(r["evidence_date"]),
                "duty_record_id": (r["duty_record"] or {}).get("id")}))
            if r.get("duty"):
                records = db.session.execute(service.duties(unit, r["duty"]).limit(DUTY_CHOICES)).scalars()
                forms[r["item_id"]].duty_record_id.choices = choices(
                    [("", "最近一次")] + [(str(d.id), f"{d.occurred_on:%Y-%m-%d} {d.subject}") for d in records])
    return render("checklists/fill.html", block, unit=unit, kind=kind, fill=fill, rows=rows, own=own,
                  editable=editable, forms=forms, row_errors=row_errors or {}, sign_form=sign_form or SignForm(),
                  error=error, title=fill.content["title"] if fill and fill.signed else service.list_title(unit, kind),
                  versions=service.versions(unit, kind), due=service.due_on(unit, kind),
                  intact=service.signature_intact(fill) if fill and fill.signed else None,
                  ancestors=tenants.ancestors(unit), STATES=STATES, EVIDENCE=EVIDENCE, DUTIES=DUTIES, row=row,
                  duty_counts=service.duty_counts(unit, clock.today()) if unit.kind == "enterprise" else {},
                  saved=saved, status=status)


@bp.get("/units/<int:tenant_id>/lists/<list_kind>")
@login_required
def list_(tenant_id, list_kind):
    unit = get_covered_or_404(tenant_id)
    if list_kind not in service.lists_for(unit):
        abort(404)
    fill = service.current_fill(unit, list_kind)
    if fill is not None:
        return redirect(url_for("checklists.fill", fill_id=fill.id))
    return _fill_page(unit, list_kind, None)


@bp.post("/units/<int:tenant_id>/lists/<list_kind>/start")
@login_required
@requires("checklists.fill")
def start(tenant_id, list_kind):
    unit = get_covered_or_404(tenant_id)
    _own(unit)
    fill, error = attempt(lambda: service.start(unit, list_kind, actor=g.membership))
    if error is not None:
        abort(422, error)
    return redirect(url_for("checklists.fill", fill_id=fill.id), code=303)


@bp.get("/fills/<int:fill_id>")
@login_required
def fill(fill_id):
    fill = get_scoped_or_404(ChecklistFill, fill_id)
    # The progress panel reloads itself when an item is saved (HX-Trigger: fill-changed).
    block = "progress" if request.args.get("part") == "progress" else None
    return _fill_page(fill.tenant, fill.kind, fill, block=block)


def _writable_fill(fill_id) -> ChecklistFill:
    fill = get_scoped_or_404(ChecklistFill, fill_id)
    _own(fill.tenant)
    return fill


@bp.post("/fills/<int:fill_id>/items/<int:item_id>")
@login_required
@requires("checklists.fill")
def save_entry(fill_id, item_id):
    fill = _writable_fill(fill_id)
    item = get_scoped_or_404(ChecklistItem, item_id)
    form = EntryForm(prefix=f"i{item.id}")
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.save_entry(
            fill, item, responsible_name=form.responsible_name.data, responsible_post=form.responsible_post.data,
            state=form.state.data, evidence_text=form.evidence_text.data, evidence_date=form.evidence_date.data,
            files=_files(form.files), today=clock.today(), duty_record_id=form.duty_record_id.data,
            actor=g.membership))
    else:
        error = _form_error(form)
    if error is None and not is_htmx():
        flash(f"已保存“{item.title}”。", "success")
        return redirect(url_for("checklists.fill", fill_id=fill.id), code=303)
    forms = {item.id: form} if error else {}
    rows = service.rows_of(fill)
    if is_htmx():
        row = next((r for r in rows if r["item_id"] == item.id), None)
        if row is None:
            abort(422, error)
        response = _fill_page(fill.tenant, fill.kind, fill, forms=forms, row_errors={item.id: error} if error else {},
                              block="row", rows=rows, row=row, status=422 if error else 200,
                              saved=None if error else item.id)
        body, status = response
        return body, status, {} if error else {"HX-Trigger": "fill-changed"}
    return _fill_page(fill.tenant, fill.kind, fill, forms=forms, row_errors={item.id: error}, rows=rows, status=422)


@bp.post("/fills/<int:fill_id>/items/<int:item_id>/files/<int:upload_id>/remove")
@login_required
@requires("checklists.fill")
def remove_file(fill_id, item_id, upload_id):
    fill = _writable_fill(fill_id)
    item = get_scoped_or_404(ChecklistItem, item_id)
    upload = get_scoped_or_404(Upload, upload_id)
    _, error = attempt(lambda: service.remove_file(fill, item, upload, actor=g.membership))
    if error is not None:
        return _fill_page(fill.tenant, fill.kind, fill, error=error, status=422)
    flash(f"已移除证明文件“{upload.filename}”。", "success")
    return redirect(url_for("checklists.fill", fill_id=fill.id) + f"#item-{item.id}", code=303)


@bp.post("/fills/<int:fill_id>/sign")
@login_required
@requires("checklists.sign")
def sign(fill_id):
    fill = _writable_fill(fill_id)
    form = SignForm()
    if not form.validate_on_submit():
        return _fill_page(fill.tenant, fill.kind, fill, sign_form=form, error=_form_error(form), status=422)
    _, error = attempt(lambda: service.sign(fill, g.membership, form.password.data, clock.today()))
    if error is not None:
        return _fill_page(fill.tenant, fill.kind, fill, sign_form=form, error=error, status=422)
    flash(f"已签署第 {fill.version} 版，清单内容已冻结。内容摘要 {fill.content_sha256[:16]}…", "success")
    return redirect(url_for("checklists.fill", fill_id=fill.id), code=303)


@bp.post("/fills/<int:fill_id>/revise")
@login_required
@requires("checklists.fill")
def revise(fill_id):
    fill = _writable_fill(fill_id)
    draft, error = attempt(lambda: service.start(fill.tenant, fill.kind, actor=g.membership))
    if error is not None:
        return _fill_page(fill.tenant, fill.kind, fill, error=error, status=422)
    if draft.id != fill.id:
        flash(f"已生成第 {draft.version} 版，沿用上一版的内容；签署后生效，第 {fill.version} 版保留可查。", "success")
    return redirect(url_for("checklists.fill", fill_id=draft.id), code=303)


@bp.post("/fills/<int:fill_id>/pdf")
@login_required
def pdf(fill_id):
    fill = get_scoped_or_404(ChecklistFill, fill_id)
    doc, error = attempt(lambda: service.request_pdf(fill, actor=g.membership))
    if error is not None:
        return _fill_page(fill.tenant, fill.kind, fill, error=error, status=422)
    jobs.submit(doc.id, g.membership.id)
    return redirect(url_for("exports.show", doc_id=doc.id), code=303)


# ---------------------------------------------------------------- duty records and workers

def _enterprise(tenant_id) -> Tenant:
    unit = get_covered_or_404(tenant_id)
    if unit.kind != "enterprise":
        abort(404)
    return unit


@bp.route("/units/<int:tenant_id>/duties/<duty>", methods=["GET", "POST"])
@login_required
def duties(tenant_id, duty):
    unit = _enterprise(tenant_id)
    if duty not in DUTIES:
        abort(404)
    form = DUTY_FORMS[duty]()
    form.occurred_on.label.text = DATE_LABELS[duty]
    if request.method == "GET" and duty == "inspection" and g.membership.role == "principal":
        form.person.data = current_user.display_name
    error = None
    if request.method == "POST":
        if not can("checklists.fill"):
            abort(403)
        _own(unit)
        if form.validate_on_submit():
            values = {name: form[name].data for name in service.DUTY_FIELDS[duty] if name in form}
            _, error = attempt(lambda: service.record_duty(
                unit, duty, occurred_on=form.occurred_on.data, today=clock.today(), files=_files(form.files),
                **values, actor=g.membership))
            if error is None:
                flash(f"已登记{DUTIES[duty]}记录（{form.occurred_on.data:%Y-%m-%d}）。", "success")
                # Come from a list item that rests on this duty: back to the list, to answer it.
                back = request.args.get("fill", type=int)
                return redirect(url_for("checklists.fill", fill_id=back) if back else
                                url_for("checklists.duties", tenant_id=unit.id, duty=duty), code=303)
        else:
            error = _form_error(form)
    return render("checklists/duties.html", "records", unit=unit, duty=duty, form=form, error=error,
                  page=paginate(service.duties(unit, duty)), rule=service.duty_rule(unit, duty, clock.today()),
                  own=g.membership.tenant_id == unit.id, ancestors=tenants.ancestors(unit), DUTIES=DUTIES,
                  status=form_status() if error else 200)


@bp.post("/duties/<int:duty_id>/delete")
@login_required
@requires("checklists.fill")
def delete_duty(duty_id):
    record = get_scoped_or_404(DutyRecord, duty_id)
    _own(record.tenant)
    unit, duty = record.tenant, record.kind
    _, error = attempt(lambda: service.delete_duty(record, clock.today(), actor=g.membership))
    flash(error or "已删除该记录。", "error" if error else "success")
    return redirect(url_for("checklists.duties", tenant_id=unit.id, duty=duty), code=303)


def _workers_page(unit, form=None, error=None, status=200):
    page = paginate(service.workers(unit))
    renew_forms = {w.id: RenewForm(prefix=f"w{w.id}", data={"certificate_no": w.certificate_no}) for w in page.items}
    return render("checklists/workers.html", "workers", unit=unit, form=form or WorkerForm(), renew_forms=renew_forms,
                  error=error, page=page, today=clock.today(),
                  own=g.membership.tenant_id == unit.id, ancestors=tenants.ancestors(unit), DUTIES=DUTIES,
                  status=status)


@bp.route("/units/<int:tenant_id>/workers", methods=["GET", "POST"])
@login_required
def workers(tenant_id):
    unit = _enterprise(tenant_id)
    if request.method == "GET":
        return _workers_page(unit)
    if not can("checklists.fill"):
        abort(403)
    _own(unit)
    form = WorkerForm()
    error = None
    if form.validate_on_submit():
        worker, error = attempt(lambda: service.add_worker(
            unit, name=form.name.data, work_type=form.work_type.data, certificate_no=form.certificate_no.data,
            expires_on=form.expires_on.data, today=clock.today(), actor=g.membership))
        if error is None:
            flash(f"已登记特种作业人员 {worker.name}（{worker.certificate_label}）。", "success")
            return redirect(url_for("checklists.workers", tenant_id=unit.id), code=303)
    else:
        error = _form_error(form)
    return _workers_page(unit, form, error, 422)


@bp.post("/workers/<int:worker_id>/renew")
@login_required
@requires("checklists.fill")
def renew_worker(worker_id):
    worker = get_scoped_or_404(SpecialWorker, worker_id)
    _own(worker.tenant)
    form = RenewForm(prefix=f"w{worker.id}")
    error = _form_error(form) if not form.validate_on_submit() else attempt(lambda: service.renew_worker(
        worker, certificate_no=form.certificate_no.data, expires_on=form.expires_on.data, today=clock.today(),
        actor=g.membership))[1]
    if error is not None:
        return _workers_page(worker.tenant, error=error, status=422)
    flash(f"已更新 {worker.name} 的{worker.certificate_label}，有效期至 {worker.expires_on:%Y-%m-%d}。", "success")
    return redirect(url_for("checklists.workers", tenant_id=worker.tenant_id), code=303)


@bp.post("/workers/<int:worker_id>/remove")
@login_required
@requires("checklists.fill")
def remove_worker(worker_id):
    worker = get_scoped_or_404(SpecialWorker, worker_id)
    _own(worker.tenant)
    _, error = attempt(lambda: service.remove_worker(worker, clock.today(), actor=g.membership))
    if error is not None:
        return _workers_page(worker.tenant, error=error, status=422)
    flash(f"已登记 {worker.name} 离岗。", "success")
    return redirect(url_for("checklists.workers", tenant_id=worker.tenant_id), code=303)


# ---------------------------------------------------------------- the levels above

def _filters() -> tuple[FilterForm, service.Filters]:
    form = FilterForm(request.args)
    industry = form.industry.data if form.industry.data in INDUSTRIES else None
    state = form.state.data if form.state.data in OVERVIEW_STATES else None
    return form, service.Filters(industry=industry, high_risk={"1": True, "0": False}.get(form.high_risk.data),
                                 state=state, q=(form.q.data or "").strip()[:100])


def _above() -> Tenant:
    home = g.membership.tenant
    if home.kind == "enterprise":
        abort(404)
    return home


@bp.get("/overview")
@login_required
def overview():
    home = _above()
    form, filters = _filters()
    expected = service.expected_lists()
    # The lists asked for are set by templates of the levels above, which a write under this unit
    # does not change: they are part of what the kept rows are kept for.
    page, rows = kept_rows("checklists.overview", lambda: service.enterprises(filters, expected),
                           "checklists/_overview_rows.html", per_page=PER_PAGE,
                           key=tuple(sorted((kind, tuple(sorted(paths))) for kind, paths in expected.items())),
                           prepare=lambda page: dict(rows=service.grid(page.items, expected)), KINDS=KINDS)
    return render("checklists/overview.html", "grid", home=home, form=form, page=page, rows=rows,
                  KINDS=KINDS, LISTS=ENTERPRISE_LISTS)


@bp.get("/noncompliant")
@login_required
def noncompliant():
    home = _above()
    form, filters = _filters()
    page = paginate(service.enterprises(filters, noncompliant=True), per_page=PER_PAGE)
    return render("checklists/noncompliant.html", "rows", home=home, form=form, page=page,
                  rows=service.grid(page.items, {}), today=clock.today())
