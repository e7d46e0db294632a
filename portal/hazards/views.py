"""The ledger, a hazard's page and its steps, the inbox, listed hazards, import/export, standards."""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from jinja2_fragments.flask import render_block
from flask_login import login_required
from sqlalchemy import select

from portal.audit.service import ACTIONS
from portal.cache import kept
from portal.exports import jobs
from portal.extensions import db
from portal.forms import choices
from portal.hazards import service
from portal.hazards.forms import (FixesForm, HazardForm, ImportForm, KeyItemsForm, ListingForm, PhotosForm,
                                  TransitionForm)
from portal.hazards.models import LEVELS, SOURCES, STATUSES, Hazard, Standard
from portal.uploads.service import read_limited
from portal.web import attempt, can, form_status, is_htmx, kept_rows, paginate, passive, render, requires
from tenants import clock
from tenants.models import GOVERNMENT_KINDS, INDUSTRIES, Tenant
from tenants.paths import in_subtree
from tenants.scope import current_scope, get_covered_or_404, get_scoped_or_404

bp = Blueprint("hazards", __name__, url_prefix="/hazards")
PER_PAGE = 50


def _filters() -> service.LedgerFilter:
    args = request.args
    within = get_covered_or_404(args["within"]) if args.get("within") else None
    return service.LedgerFilter(status=args.get("status", ""), level=args.get("level", ""),
                                source=args.get("source", ""), industry=args.get("industry", ""),
                                overdue=args.get("overdue") == "1", listed=args.get("listed") == "1", within=within,
                                q=args.get("q", "").strip()[:100], sort=args.get("sort", "unit"),
                                row=args.get("row", ""), start=_day(args.get("start")), end=_day(args.get("end")))


def _day(text: str | None) -> date | None:
    """A day of a dispatch row's span; a malformed one is refused (422) rather than widening the list."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(422, "统计区间日期格式应为 年-月-日，例如 2024-06-30。")


def _streets():
    """Streets the filter offers: those inside the user's own subtree, as (id, name) rows; kept
    (portal.cache) like the ledger's figures, since a district's streets seldom change."""
    home = g.membership.tenant
    return kept("hazards.streets", (home.id,), lambda: db.session.execute(
        select(Tenant.id, Tenant.name).where(Tenant.kind == "street", in_subtree(Tenant.path, home.path))
        .order_by(Tenant.path).limit(500)).all())[0]


def _photos():
    return [(f.filename, read_limited(f.stream)) for f in request.files.getlist("photos") if f and f.filename]


@bp.get("/")
@login_required
def index():
    return _ledger_page(_filters())


def _ledger_page(f: service.LedgerFilter, error: str | None = None, status: int = 200):
    today = clock.today()
    page, rows = kept_rows("hazards.ledger", lambda: service.ledger(f, today), "hazards/_ledger_rows.html",
                           per_page=PER_PAGE, keep_total=True, today=today, light=service.light, f=f)
    context = dict(f=f, page=page, rows=rows, today=today, error=error, STATUSES=STATUSES,
                   LEVELS=LEVELS, SOURCES=SOURCES, SORTS=service.SORTS)
    if is_htmx():
        # Filters and pages swap only the rows; the figures belong to the node the page was opened on.
        return render("hazards/ledger.html", "rows", status=status, **context)
    context.update(node=f.within or g.membership.tenant, year=_year(today), streets=_streets())
    return render("hazards/ledger.html", status=status, **context)


def _year(today: date) -> int:
    year = request.args.get("year", type=int) or today.year
    return year if 2000 <= year <= today.year else today.year


@bp.get("/figures")
@login_required
@passive
def figures():
    """The ledger's stock and increment figures and monthly trend for its node and year: the block
    the ledger page loads after it is shown. Passive: loaded by the page, not asked for by the
    user, its answer must not set the session cookie again, or a 退出 pressed while it was on its
    way would be undone by it."""
    today = clock.today()
    node = get_covered_or_404(request.args["within"]) if request.args.get("within") else g.membership.tenant
    year = _year(today)
    (figures, trend), as_of = kept("hazards.figures", (node.id, year, today), lambda: (
        service.stock_figures(node, year, today), service.monthly_trend(node, year, today)))
    return render_block("hazards/ledger.html", "figures", node=node, year=year, today=today,
                        figures=figures, trend=trend, as_of=as_of)


@bp.post("/export")
@login_required
def export():
    f = _filters()
    file_type = "xlsx" if request.form.get("file_type") == "xlsx" else "pdf"
    node = f.within or g.membership.tenant
    result, error = attempt(lambda: service.request_export(node, f, file_type, actor=g.membership))
    if error:
        return _ledger_page(f, error=error, status=422)
    doc, _, heavy = result
    if file_type == "pdf" and not heavy:
        jobs.run(doc.id, g.membership.id)
    else:
        jobs.submit(doc.id, g.membership.id, heavy=heavy)
    return redirect(url_for("exports.show", doc_id=doc.id), code=303)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@requires("hazards.record")
def new():
    home = g.membership.tenant
    enterprise, error = None, None
    if home.kind == "enterprise":
        enterprise = home
    elif request.args.get("enterprise"):
        enterprise = get_covered_or_404(request.args["enterprise"])
        if enterprise.kind != "enterprise":
            abort(404)
    elif request.args.get("credit_code"):
        code = request.args["credit_code"].strip().upper()
        found = db.session.execute(select(Tenant).where(Tenant.kind == "enterprise", Tenant.credit_code == code)
                                   ).scalar_one_or_none()
        if found is not None and current_scope().contains(found):
            return redirect(url_for("hazards.new", enterprise=found.id))
        error = f"没有找到统一社会信用代码为“{code}”的企业，或该企业不在您的管辖范围内。"
    if enterprise is None:
        return render("hazards/new.html", enterprise=None, error=error, status=422 if error else 200)
    form = HazardForm()
    form.item_id.choices = _item_choices(enterprise)
    if form.validate_on_submit():
        finding = service.Finding(
            level=form.level.data, description=form.description.data, location=form.location.data or "",
            found_at=form.found_at.data, item_id=form.item_id.data, on_the_spot=form.on_the_spot.data,
            fixes=service.Fixes(owner=form.fix_owner.data or "", measures=form.fix_measures.data or "",
                                funds=form.fix_funds.data, deadline=form.fix_deadline.data,
                                contingency=form.fix_contingency.data or ""))
        hazard, error = attempt(lambda: service.record(enterprise, g.membership, finding, _photos()))
        if error is None:
            flash(f"已登记隐患（编号 {hazard.id}）。", "success")
            return redirect(url_for("hazards.show", hazard_id=hazard.id))
    held, untexted = service.basis_standards(enterprise)
    return render("hazards/new.html", enterprise=enterprise, form=form, error=error, status=form_status(),
                  held=held, untexted=untexted)


def _item_choices(enterprise: Tenant):
    return choices([("", "—（一般隐患可不选）")] + [
        (str(i.id), f"{i.cited}：{i.text[:60]}")
        for i in service.applicable_items(enterprise)])


@bp.get("/<int:hazard_id>")
@login_required
def show(hazard_id):
    return _show(get_scoped_or_404(Hazard, hazard_id))


def _show(hazard: Hazard, status: int = 200, error: str | None = None, fixes_form=None, listing_form=None):
    today = clock.today()
    actor = g.membership
    actions = [a for a in service.actions_for(hazard, actor)
               if can("hazards.rectify" if service.TRANSITIONS[a][2] == "enterprise" else "hazards.review")]
    if fixes_form is None:
        fixes_form = FixesForm(formdata=None, obj=hazard)
    can_list = can("hazards.list") and actor.tenant.kind in GOVERNMENT_KINDS and hazard.level == "major" \
        and not hazard.listed and hazard.status != "closed"
    if listing_form is None and can_list:
        listing_form = ListingForm(formdata=None)
    if listing_form is not None:
        listing_form.tracker_id.choices = choices(
            [("", "请选择")] + [(str(u.id), f"{u.display_name}（{u.post or u.username}）")
                               for u in db.session.execute(service.trackers(actor.tenant)).scalars()])
    can_delist = can("hazards.list") and hazard.listed and service.may_delist(hazard, actor)
    return render("hazards/show.html", hazard=hazard, today=today, light=service.light(hazard, today),
                  basis=service.basis_of(hazard),
                  ACTIONS=ACTIONS, actions=actions, TRANSITIONS=service.TRANSITIONS, timeline=service.timeline(hazard),
                  fixes_form=fixes_form, transition_form=TransitionForm(formdata=None),
                  photos_form=PhotosForm(formdata=None), listing_form=listing_form if can_list else None,
                  error=error, status=status, can_delist=can_delist,
                  can_rectify=can("hazards.rectify") and actor.tenant_id == hazard.tenant_id)


@bp.post("/<int:hazard_id>/fixes")
@login_required
@requires("hazards.rectify")
def fixes(hazard_id):
    hazard = get_scoped_or_404(Hazard, hazard_id)
    form = FixesForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.set_fixes(hazard, g.membership, service.Fixes(
            owner=form.fix_owner.data, measures=form.fix_measures.data, funds=form.fix_funds.data,
            deadline=form.fix_deadline.data, contingency=form.fix_contingency.data)))
        if error is None:
            flash("五落实已保存。", "success")
            return redirect(url_for("hazards.show", hazard_id=hazard.id))
    return _show(hazard, 422, error, fixes_form=form)


@bp.post("/<int:hazard_id>/transition")
@login_required
def transition(hazard_id):
    hazard = get_scoped_or_404(Hazard, hazard_id)
    form = TransitionForm()
    action = form.action.data
    if action not in service.TRANSITIONS:
        return _show(hazard, 422, "未知的操作。")
    if not can("hazards.rectify" if service.TRANSITIONS[action][2] == "enterprise" else "hazards.review"):
        abort(403)
    error = "；".join(e for errs in form.errors.values() for e in errs) if not form.validate_on_submit() else None
    if error is None:
        _, error = attempt(lambda: service.transition(hazard, g.membership, action, form.reason.data or ""))
    if error:
        return _show(hazard, 422, error)
    flash(f"已{service.TRANSITIONS[action][4]}：隐患现为“{hazard.status_label}”。", "success")
    return redirect(url_for("hazards.show", hazard_id=hazard.id))


@bp.post("/<int:hazard_id>/photos")
@login_required
@requires("hazards.record")
def photos(hazard_id):
    hazard = get_scoped_or_404(Hazard, hazard_id)
    form = PhotosForm()
    photos = _photos() if form.validate_on_submit() else []
    if not photos:
        return _show(hazard, 422, "请选择要上传的照片。")
    _, error = attempt(lambda: service.add_photos(hazard, g.membership, photos))
    if error:
        return _show(hazard, 422, error)
    flash(f"已添加 {len(photos)} 张照片。", "success")
    return redirect(url_for("hazards.show", hazard_id=hazard.id))


@bp.post("/<int:hazard_id>/listing")
@login_required
@requires("hazards.list")
def listing(hazard_id):
    hazard = get_scoped_or_404(Hazard, hazard_id)
    form = ListingForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.list_hazard(hazard, g.membership, document_number=form.document_number.data,
                                                        tracker_id=form.tracker_id.data, deadline=form.deadline.data))
        if error is None:
            flash("已挂牌督办。", "success")
            return redirect(url_for("hazards.show", hazard_id=hazard.id))
    return _show(hazard, 422, error, listing_form=form)


@bp.post("/<int:hazard_id>/delisting")
@login_required
@requires("hazards.list")
def delisting(hazard_id):
    hazard = get_scoped_or_404(Hazard, hazard_id)
    _, error = attempt(lambda: service.delist_hazard(hazard, g.membership))
    if error:
        return _show(hazard, 422, error)
    flash("已摘牌。", "success")
    return redirect(url_for("hazards.show", hazard_id=hazard.id))


@bp.get("/inbox")
@login_required
def inbox():
    awaiting, open_major = service.inbox()
    return render("hazards/inbox.html", "open_major", awaiting=db.session.execute(awaiting.limit(200)).scalars().all(),
                  page=paginate(open_major, per_page=PER_PAGE), today=clock.today(), light=service.light)


@bp.get("/listed")
@login_required
def listed():
    current_only = request.args.get("all") != "1"
    today = clock.today()
    near = today if request.args.get("near") == "1" else None
    return render("hazards/listed.html", "rows", page=paginate(service.listed(current_only, near), per_page=PER_PAGE),
                  current_only=current_only, near=near, today=today)


@bp.route("/import", methods=["GET", "POST"])
@login_required
@requires("hazards.record")
def import_ledger():
    form = ImportForm()
    error = None
    if form.validate_on_submit():
        data = read_limited(form.file.data.stream)
        created, error = attempt(lambda: service.import_ledger(g.membership, data))
        if error is None:
            flash(f"已导入 {len(created)} 条隐患。", "success")
            return redirect(url_for("hazards.index"))
    return render("hazards/import.html", form=form, error=error, status=form_status(), COLUMNS=service.COLUMNS,
                  required=service.REQUIRED_COLUMNS)


@bp.get("/import/template.xlsx")
@login_required
def import_template():
    response = Response(service.template_workbook(), mimetype=service.XLSX)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('隐患台账导入模板.xlsx')}"
    return response


@bp.route("/standards", methods=["GET", "POST"])
@login_required
def standards():
    home = g.membership.tenant
    form = KeyItemsForm()
    error = None
    may_publish = can("standards.publish") and (home.kind in GOVERNMENT_KINDS or home.kind == "department")
    if home.kind == "department":
        # A department publishes only for the industries it supervises.
        form.industry.choices = choices((i, INDUSTRIES[i]) for i in home.supervised_industries or [])
    if request.method == "POST":
        if not may_publish:
            abort(403)
        if form.validate_on_submit():
            standard, error = attempt(lambda: service.publish_key_items(
                home, name=form.name.data, document_number=form.document_number.data, industry=form.industry.data,
                items=form.items.data.splitlines(), actor=g.membership))
            if error is None:
                flash(f"已发布“{standard.name}”，" + ("本部门监管行业的企业" if home.kind == "department" else "本级及下级企业")
                      + "登记隐患时可选用。", "success")
                return redirect(url_for("hazards.standard", standard_id=standard.id))
    industry = home.industry if home.kind == "enterprise" else None
    return render("hazards/standards.html", standards=service.applicable_standards(home, industry), home=home,
                  form=form if may_publish else None, error=error, status=form_status(), INDUSTRIES=INDUSTRIES,
                  ITEM_STATUSES=service.ITEM_STATUSES)


@bp.get("/standards/<int:standard_id>")
@login_required
def standard(standard_id):
    item = service.published_standard(g.membership.tenant, standard_id) or get_scoped_or_404(Standard, standard_id)
    return render("hazards/standard.html", standard=item, ITEM_STATUSES=service.ITEM_STATUSES,
                  may_withdraw=can("standards.publish") and item.tenant_id == g.membership.tenant_id
                  and item.kind == "key_items" and item.withdrawn_at is None)


@bp.post("/standards/<int:standard_id>/withdraw")
@login_required
@requires("standards.publish")
def withdraw(standard_id):
    item = get_scoped_or_404(Standard, standard_id)
    _, error = attempt(lambda: service.withdraw_standard(g.membership.tenant, item, actor=g.membership))
    if error:
        return render("hazards/standard.html", standard=item, ITEM_STATUSES=service.ITEM_STATUSES, error=error,
                      may_withdraw=False, status=422)
    flash(f"已撤回“{item.name}”。已引用其条款的隐患保留原引用。", "success")
    return redirect(url_for("hazards.standards"))
