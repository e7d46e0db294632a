"""The trace of an enterprise or a node, its dossier PDF, accountability records and letters."""
from datetime import date, timedelta

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from portal.accountability import letters, service
from portal.accountability.forms import CloseForm, LetterForm, RecordForm, ReplyForm
from portal.accountability.models import MEASURES, AccountabilityRecord, Letter, LetterFile
from portal.exports import access, jobs
from portal.extensions import db
from portal.forms import choices
from portal.inspections import service as inspections
from portal.inspections.models import Accident
from portal.uploads import service as uploads
from portal.web import Page, attempt, can, paginate, render, requires
from tenants import clock
from tenants import service as tenants
from tenants.models import Tenant
from tenants.scope import get_covered_or_404, get_scoped_or_404, may_change

bp = Blueprint("accountability", __name__)
TIMELINE_PER_PAGE = 100
RECENT_ACCIDENTS = 10


@bp.get("/accountability/")
@login_required
@requires("accountability.trace")
def index():
    q, measure = request.args.get("q", "").strip()[:100], request.args.get("measure", "")
    subject = request.args.get("subject", "").strip()[:100]
    found = paginate(tenants.search(subject)) if subject else None
    page = paginate(service.listing(q, measure))
    # A trace usually starts from an accident: the latest ones in scope, each anchored to its day.
    accidents = db.session.execute(inspections.accidents().limit(RECENT_ACCIDENTS)).scalars().all()
    # Letters sent by this level whose reply is late: pressed here, where letters are decided.
    late = db.session.execute(select(func.count()).select_from(
        letters.issued(g.membership.tenant, "late").order_by(None).subquery())).scalar_one()
    return render("accountability/index.html", "rows", page=page, q=q, measure=measure, subject=subject,
                  found=found, accidents=accidents, late_letters=late,
                  more_accidents=len(accidents) == RECENT_ACCIDENTS, MEASURES=MEASURES)


def _params(source, subject: Tenant):
    """(until, accident, error) from the query or a form: a bad date is a message, not a 500."""
    accident, until, error = None, None, None
    if source.get("accident"):
        accident = db.session.execute(select(Accident).where(
            Accident.id == source.get("accident", type=int), Accident.tenant_id == subject.id)).scalar_one_or_none()
        if accident is None:
            abort(404)
    elif source.get("until"):
        try:
            until = date.fromisoformat(source["until"])
        except ValueError:
            error = "截止日期格式应为 年-月-日，如 2024-06-30。"
        else:
            if until > clock.today():
                error, until = "截止日期不能晚于今天。", None
    return until, accident, error


@bp.get("/tenants/<int:tenant_id>/trace")
@login_required
@requires("accountability.trace")
def trace(tenant_id):
    subject = get_covered_or_404(tenant_id)
    until, accident, error = _params(request.args, subject)
    return _trace_page(subject, service.trace_for(subject, until, accident), error=error,
                       status=422 if error else 200)


def _trace_page(subject, t, form=None, error=None, status=200):
    try:
        number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        number = 1
    start = (number - 1) * TIMELINE_PER_PAGE
    timeline = Page(t.entries[start:start + TIMELINE_PER_PAGE], number, TIMELINE_PER_PAGE, len(t.entries))
    writer = can("accountability.write")
    if writer and form is None:
        form = RecordForm(formdata=None, decided_on=clock.today(), issuer=service.default_issuer(g.membership),
                          until=t.until.isoformat() if not t.accident else "",
                          accident=str(t.accident.id) if t.accident else "")
    if form is not None:
        form.subject_unit_id.choices = choices([("", "请选择")] + [(str(u.id), u.name) for u in t.units()])
        form.subject_user_id.choices = choices([("", "—")] + [(str(u.id), f"{u.display_name}（{u.post or u.username}）")
                                                               for u in t.people()])
        form.basis.choices = choices(t.items())
    accidents = db.session.execute(select(Accident).where(Accident.tenant_id == subject.id)
                                   .order_by(Accident.occurred_on.desc())).scalars().all() if t.is_enterprise else []
    return render("accountability/trace.html", "timeline", status=status, subject=subject, t=t, timeline=timeline,
                  form=form if writer else None, error=error, accidents=accidents, ENTRY_KINDS=service.ENTRY_KINDS,
                  exportable=access.may_request(g.membership.role, "accountability.dossier"),
                  QUESTIONS=service.QUESTIONS, ancestors=tenants.ancestors(subject))


@bp.post("/tenants/<int:tenant_id>/trace/export")
@login_required
@requires("accountability.trace")
def export(tenant_id):
    subject = get_covered_or_404(tenant_id)
    until, accident, error = _params(request.form, subject)
    if error:
        return _trace_page(subject, service.trace_for(subject), error=error, status=422)
    doc, error = attempt(lambda: service.request_dossier(g.membership.tenant, subject, until, accident,
                                                                 actor=g.membership))
    if error:
        return _trace_page(subject, service.trace_for(subject, until, accident), error=error, status=422)
    # Five years of records make a long document: it is laid out away from the web workers.
    jobs.submit(doc.id, g.membership.id, heavy=True)
    return redirect(url_for("exports.show", doc_id=doc.id), code=303)


@bp.post("/tenants/<int:tenant_id>/accountability")
@login_required
@requires("accountability.write")
def create(tenant_id):
    subject = get_covered_or_404(tenant_id)
    form = RecordForm()
    until, accident, error = _params(request.form, subject)
    t = service.trace_for(subject, until, accident)
    form.basis.choices = choices(t.items())
    if error is None and form.validate_on_submit():
        data = service.RecordInput(
            measure=form.measure.data, subject_unit_id=form.subject_unit_id.data,
            subject_user_id=form.subject_user_id.data, subject_person=form.subject_person.data or "",
            subject_post=form.subject_post.data or "", reason=form.reason.data, requirement=form.requirement.data or "",
            basis=form.basis.data or [], decided_on=form.decided_on.data,
            document_number=form.document_number.data or "", issuer=form.issuer.data or "",
            request_key=form.request_key.data, reply_by=form.reply_by.data)
        entry, error = attempt(lambda: service.record(g.membership, t, data))
        if error is None:
            flash(f"已记录{entry.measure_label}。", "success")
            return redirect(url_for("accountability.show", record_id=entry.id))
    return _trace_page(subject, t, form=form, error=error, status=422)


@bp.get("/accountability/<int:record_id>")
@login_required
def show(record_id):
    entry = get_scoped_or_404(AccountabilityRecord, record_id)
    return render("accountability/record.html", record=entry, sent=_sent(entry),
                  exportable=access.may_request(g.membership.role, "accountability.letter"))


def _sent(entry: AccountabilityRecord) -> Letter | None:
    """The letter as delivered, with its reply, for a 提醒函/督办函 record."""
    return db.session.execute(select(Letter).where(Letter.record_id == entry.id)).scalar_one_or_none()


@bp.post("/accountability/<int:record_id>/letter")
@login_required
def letter(record_id):
    entry = get_scoped_or_404(AccountabilityRecord, record_id)
    doc, error = attempt(lambda: service.request_letter(entry, actor=g.membership))
    if error:
        return render("accountability/record.html", record=entry, sent=_sent(entry), error=error, status=422,
                      exportable=access.may_request(g.membership.role, "accountability.letter"))
    jobs.submit(doc.id, g.membership.id)
    return redirect(url_for("exports.show", doc_id=doc.id), code=303)


# --- 提醒函/督办函 to units below, their replies and 办结 ---------------------------------------------

@bp.get("/letters/")
@login_required
def letters_index():
    """Letters addressed to the user's unit and, for those who send them, the letters it sent."""
    home = g.membership.tenant
    box = request.args.get("box", "")
    if box not in ("received", "issued"):
        box = "issued" if can("accountability.write") else "received"
    state = request.args.get("state", "")
    stmt = letters.received(home, state) if box == "received" else letters.issued(home, state)
    return render("accountability/letters.html", "rows", page=paginate(stmt), box=box, state=state,
                  FILTERS=letters.FILTERS)


def _source_or_404(key: str):
    """The record a letter is to rest on, read in the user's scope (404 outside it), or the refusal."""
    try:
        found = letters.find(key)
    except letters.LetterError as e:
        return None, str(e)
    if found is None:
        abort(404)
    return found, None


def _letter_form_page(found, form, error=None, status=200):
    form.subject_unit_id.choices = choices([("", "请选择")] + [(str(u.id), u.name) for u in found.units
                                                                if may_change(g.membership, u)
                                                                and u.id != g.membership.tenant_id])
    return render("accountability/letter_new.html", status=status, found=found, form=form, error=error)


# The reply-by date a 督办函 form offers: a week, as 督办 letters commonly give.
LETTER_REPLY_DAYS = 7


@bp.get("/letters/new")
@login_required
@requires("accountability.write")
def new_letter():
    key = request.args.get("source", "")
    found, error = _source_or_404(key)
    if error:
        flash(error, "error")
        return redirect(url_for("accountability.letters_index"), 303)
    form = LetterForm(formdata=None, source=key, measure="supervision_letter", subject_unit_id=found.units[0].id,
                      reason=f"{found.text}。", reply_by=clock.today() + timedelta(days=LETTER_REPLY_DAYS),
                      issuer=service.default_issuer(g.membership))
    return _letter_form_page(found, form)


@bp.post("/letters")
@login_required
@requires("accountability.write")
def send_letter():
    form = LetterForm()
    found, error = _source_or_404(form.source.data or "")
    if error:
        flash(error, "error")
        return redirect(url_for("accountability.letters_index"), 303)
    if form.validate_on_submit():
        data = service.RecordInput(
            measure=form.measure.data, subject_unit_id=form.subject_unit_id.data, reason=form.reason.data,
            requirement=form.requirement.data or "", decided_on=clock.today(), reply_by=form.reply_by.data,
            document_number=form.document_number.data or "", issuer=form.issuer.data or "",
            request_key=form.request_key.data)
        entry, error = attempt(lambda: letters.send(g.membership, form.source.data, data))
        if error is None:
            flash(f"已发出{entry.measure_label}。", "success")
            return redirect(url_for("accountability.show_letter", letter_id=_sent(entry).id), 303)
    else:
        error = "；".join(e for errs in form.errors.values() for e in errs)
    return _letter_form_page(found, form, error, 422)


def _letter_page(letter: Letter, error=None, status=200, reply_form=None, close_form=None):
    m = g.membership
    return render("accountability/letter.html", status=status, letter=letter, error=error,
                  reply_form=reply_form or (ReplyForm(formdata=None) if letters.may_reply(letter, m) else None),
                  close_form=close_form or (CloseForm(formdata=None) if letters.may_close(letter, m) else None))


@bp.get("/letters/<int:letter_id>")
@login_required
def show_letter(letter_id):
    return _letter_page(get_scoped_or_404(Letter, letter_id))


@bp.post("/letters/<int:letter_id>/reply")
@login_required
def reply_letter(letter_id):
    form = ReplyForm()
    return _letter_step(letter_id, "reply_form", form, lambda letter: letters.reply(
        letter, g.membership, form.body.data,
        [(f.filename, uploads.read_limited(f.stream)) for f in (form.files.data or []) if f and f.filename]),
        "已回复，等待发函单位办结。")


@bp.post("/letters/<int:letter_id>/close")
@login_required
def close_letter(letter_id):
    form = CloseForm()
    return _letter_step(letter_id, "close_form", form, lambda letter: letters.close(letter, g.membership,
                                                                                    form.outcome.data), "函件已办结。")


def _letter_step(letter_id, name: str, form, action, success: str):
    """Validate `form` (the page's form `name`), run `action` on the letter and go back to it;
    refused, the page again with the message and the form as it was filled."""
    letter = get_scoped_or_404(Letter, letter_id)
    if not form.validate_on_submit():
        return _letter_page(letter, "；".join(e for errs in form.errors.values() for e in errs), 422, **{name: form})
    _, error = attempt(lambda: action(letter))
    if error:
        return _letter_page(db.session.get(Letter, letter.id), error, 422, **{name: form})
    flash(success, "success")
    return redirect(url_for("accountability.show_letter", letter_id=letter.id), 303)


@bp.get("/letters/<int:letter_id>/files/<int:file_id>")
@login_required
def letter_file(letter_id, file_id):
    stored = get_scoped_or_404(LetterFile, file_id)
    if stored.letter_id != letter_id:
        abort(404)
    return uploads.send(stored)
