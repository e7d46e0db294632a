"""The public tip page and status lookup (no login), and the street's list and verification."""
from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_login import login_required

from portal.codes import service as codes
from portal.extensions import db
from portal.forms import choices
from portal.hazards import service as hazards
from portal.tips import service
from portal.tips.forms import RewardForm, StatusForm, TipForm, VerifyForm
from portal.tips.models import STATUSES, Tip
from portal.uploads.service import read_limited
from portal.web import attempt, form_status, is_htmx, paginate, render, requires
from tenants import clock
from tenants.models import Tenant
from tenants.scope import get_scoped_or_404, unscoped

bp = Blueprint("tips", __name__, url_prefix="/tips")


def _tip_form() -> TipForm:
    form = TipForm()
    form.district_id.choices = choices([("", "请选择区县")] + [(str(i), name) for i, name in service.districts()])
    return form


def _scanned(form: TipForm):
    """The enterprise whose code opened the form, or None; the form is filled in for it."""
    token = request.args.get("code") if request.method == "GET" else form.enterprise_code.data
    if not token:
        return None, None
    try:
        enterprise = service.about(token)
    except service.TipError as e:
        return None, str(e)
    with unscoped():  # the names on the poster, no more
        street, district = codes.street_of(enterprise), codes.district_of(enterprise)
    form.enterprise_code.data = token
    form.district_id.data, form.street_id.data = (district.id if district else None), (street.id if street else None)
    form.enterprise_name.data = enterprise.name
    if request.method == "GET":
        form.address.data = enterprise.address
    return enterprise, None


@bp.route("/", methods=["GET", "POST"])
def new():
    """Public: anyone may report, without an account; from an enterprise's code, about it."""
    form = _tip_form()
    enterprise, error = _scanned(form)
    if request.method == "POST":
        sender = dict(sender=request.remote_addr or "", limit=current_app.config.get("TIPS_PER_HOUR", 5))
        try:
            service.check_quota(**sender)
        except service.TooManyTips as e:
            return render("tips/new.html", form=form, error=str(e), code=None, streets=[], enterprise=enterprise,
                          status=429)
        if form.validate_on_submit():
            if form.anonymous.data:
                # An internal whistleblower may be logged in: the tip, its photos and their audit
                # events must not name the account. For the rest of this request nobody is logged in.
                g._login_user = current_app.login_manager.anonymous_user()
            photos = [(f.filename, read_limited(f.stream)) for f in request.files.getlist("photos") if f and f.filename]
            code, error = attempt(lambda: service.submit(
                district_id=form.district_id.data, street_id=form.street_id.data,
                enterprise_name=form.enterprise_name.data, address=form.address.data or "",
                description=form.description.data, anonymous=form.anonymous.data,
                reporter_name=form.reporter_name.data, contact=form.contact.data, photos=photos,
                enterprise_code=form.enterprise_code.data or "", **sender))
            if error is None:
                return render("tips/new.html", form=None, code=code, status=201)
    return render("tips/new.html", form=form, error=error, code=None, streets=service.streets(form.district_id.data),
                  enterprise=enterprise, status=form_status() if error is None or request.method == "POST" else 410)


@bp.get("/streets")
def streets():
    """Public: the streets of a district, as <option>s for the tip form (an HTMX swap)."""
    if not is_htmx():
        return redirect(url_for("tips.new"))
    district_id = request.args.get("district_id", type=int)
    return render("tips/new.html", "street_options", streets=service.streets(district_id))


@bp.route("/status", methods=["GET", "POST"])
def status():
    """Public: the state of a tip by its tracking code, and nothing else."""
    form = StatusForm()
    found, checked = None, False
    if form.validate_on_submit():
        found, checked = service.status_of(form.code.data), True
    code = 200 if request.method == "GET" or found else (404 if checked else 422)
    return render("tips/status.html", form=form, found=found, checked=checked, status=code)


@bp.get("/received")
@login_required
@requires("tips.verify")
def received():
    state = request.args.get("status", "")
    state = state if state in STATUSES else ""
    return render("tips/received.html", "rows", page=paginate(service.received(state)), state=state,
                  STATUSES=STATUSES)


def _verify_form(tip: Tip, formdata=None) -> VerifyForm:
    form = VerifyForm(formdata=formdata) if formdata is not None else VerifyForm()
    enterprises = db.session.execute(service.enterprises_for(tip)).scalars().all()
    form.enterprise_id.choices = choices([("", "请选择")] + [(str(e.id), e.name) for e in enterprises])
    if form.enterprise_id.data is None:
        form.enterprise_id.data = tip.enterprise_id  # the enterprise whose code the reporter scanned
    chosen = next((e for e in enterprises if e.id == form.enterprise_id.data), None)
    form.item_id.choices = choices([("", "—")] + [(str(i.id), f"{i.cited}：{i.text[:50]}")
                                                  for i in (hazards.applicable_items(chosen) if chosen else [])])
    return form


@bp.get("/<int:tip_id>")
@login_required
@requires("tips.verify")
def show(tip_id):
    tip = get_scoped_or_404(Tip, tip_id)
    # Choosing the enterprise reloads the form with that enterprise's standard items.
    form = _verify_form(tip, request.args if request.args.get("enterprise_id") else None)
    return render("tips/show.html", "verify_form", tip=tip, form=form, reward_form=RewardForm(formdata=None))


@bp.post("/<int:tip_id>/verification")
@login_required
@requires("tips.verify")
def verification(tip_id):
    tip = get_scoped_or_404(Tip, tip_id)
    form = _verify_form(tip)
    error = None
    if form.validate_on_submit():
        true = form.result.data == "true"
        enterprise = db.session.get(Tenant, form.enterprise_id.data) if true and form.enterprise_id.data else None
        finding = hazards.Finding(level=form.level.data, description=form.description.data or tip.description[:500],
                                  location=tip.address[:200], found_at=clock.today(), item_id=form.item_id.data)
        _, error = attempt(lambda: service.verify(tip, g.membership, true=true, note=form.note.data or "",
                                                  enterprise=enterprise, finding=finding))
        if error is None:
            flash(f"已核查：{tip.status_label}。" + (f"已登记为隐患（编号 {tip.hazard_id}）。" if tip.hazard_id else ""),
                  "success")
            return redirect(url_for("tips.show", tip_id=tip.id))
    else:
        error = "；".join(e for errs in form.errors.values() for e in errs)
    return render("tips/show.html", tip=tip, form=form, reward_form=RewardForm(formdata=None), error=error,
                  status=422)


@bp.post("/<int:tip_id>/reward")
@login_required
@requires("tips.verify")
def reward(tip_id):
    tip = get_scoped_or_404(Tip, tip_id)
    form = RewardForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.reward(tip, g.membership, amount=form.amount.data, named=form.named.data))
        if error is None:
            flash("已记录举报奖励。", "success")
            return redirect(url_for("tips.show", tip_id=tip.id))
    else:
        error = "；".join(e for errs in form.errors.values() for e in errs)
    return render("tips/show.html", tip=tip, form=_verify_form(tip, None), reward_form=form, error=error, status=422)
