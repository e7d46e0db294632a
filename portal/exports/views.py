"""Exports in scope, the roster PDF, the letterhead setting, and the public verify page."""
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_login import login_required
from sqlalchemy import select

from portal.exports import jobs, service
from portal.exports.forms import LetterheadForm, VerifyForm
from portal.exports.models import ExportDocument
from portal.extensions import db
from portal.web import attempt, form_status, is_htmx, paginate, render, requires
from tenants.scope import get_covered_or_404, get_managed_or_404, get_scoped_or_404

bp = Blueprint("exports", __name__)


@bp.get("/exports/")
@login_required
def index():
    page = paginate(select(ExportDocument).order_by(ExportDocument.id.desc()))
    return render("exports/index.html", "rows", page=page)


@bp.get("/exports/<int:doc_id>.pdf", defaults={"ext": "pdf"})
@bp.get("/exports/<int:doc_id>.xlsx", defaults={"ext": "xlsx"})
@bp.get("/exports/<int:doc_id>.docx", defaults={"ext": "docx"})
@login_required
def download(doc_id, ext):
    doc = get_scoped_or_404(ExportDocument, doc_id)
    kind = service.file_type(doc.kind)
    if kind.extension != ext:
        abort(404)
    if doc.status != "done":
        return redirect(url_for("exports.show", doc_id=doc.id))
    filename = f"{doc.title}-{doc.id}.{ext}"
    response = Response(doc.content, mimetype=kind.mimetype)
    # The page's button says 下载: the file is saved under its title, never opened in place of the page.
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response




@bp.post("/tenants/<int:tenant_id>/roster")
@login_required
@requires("exports.roster")
def roster(tenant_id):
    tenant = get_covered_or_404(tenant_id)
    doc = service.request_export(tenant, kind="roster", title=f"{tenant.name}单位及人员花名册", actor=g.membership)
    db.session.commit()
    jobs.submit(doc.id, g.membership.id)
    return redirect(url_for("exports.show", doc_id=doc.id), code=303)


@bp.get("/exports/<int:doc_id>")
@login_required
def show(doc_id):
    doc = get_scoped_or_404(ExportDocument, doc_id)
    if is_htmx():
        # The page's own poll is not the user's activity: it must not keep the login alive.
        g.passive = True
    if not doc.finished:
        jobs.recover_if_stale(doc)
    return render("exports/show.html", "status", doc=doc, file_type=service.file_type(doc.kind))


@bp.post("/exports/<int:doc_id>/retry")
@login_required
def retry(doc_id):
    doc = get_scoped_or_404(ExportDocument, doc_id)
    _, error = attempt(lambda: jobs.retry(doc, g.membership.id))
    if error:
        flash(error, "error")
        return render("exports/show.html", doc=doc, file_type=service.file_type(doc.kind), status=422)
    return redirect(url_for("exports.show", doc_id=doc.id), code=303)


@bp.route("/tenants/<int:tenant_id>/letterhead", methods=["GET", "POST"])
@login_required
@requires("tenants.manage")
def letterhead(tenant_id):
    tenant = get_managed_or_404(tenant_id)
    current = service.letterhead(tenant)
    own = current["owner"] is not None and current["owner"].id == tenant.id
    form = LetterheadForm(data={"header": current["header"], "footer": current["footer"], "keep_seal": True}
                          if request.method == "GET" else None)
    error = None
    if request.method == "POST" and request.form.get("action") == "clear":
        if service.clear_letterhead(tenant, actor=g.membership):
            db.session.commit()
            flash("已恢复使用上级的文头设置。", "success")
        return redirect(url_for("exports.letterhead", tenant_id=tenant.id))
    if form.validate_on_submit():
        upload = form.seal.data
        # One byte over the limit is enough to refuse it.
        seal = upload.read(service.SEAL_MAX_BYTES + 1) if upload else None
        _, error = attempt(lambda: service.set_letterhead(tenant, form.header.data, form.footer.data or "", seal,
                                                          form.keep_seal.data, actor=g.membership))
        if error is None:
            flash("文头设置已保存，本单位及下级导出的文件将使用它。", "success")
            return redirect(url_for("exports.letterhead", tenant_id=tenant.id))
    return render("exports/letterhead.html", tenant=tenant, form=form, current=current, own=own, error=error,
                  status=form_status())


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    form = VerifyForm()
    results, checked, error = [], False, None
    if form.validate_on_submit():
        upload = form.file.data
        if upload:
            results = service.find_for_verification(file_bytes=upload.read())
            checked = True
        elif form.code.data:
            results = service.find_for_verification(code=form.code.data)
            checked = True
        else:
            error = "请上传 PDF 文件或填写文件上的校验码。"
    elif request.method == "POST":
        error = "；".join(e for errs in form.errors.values() for e in errs) or "请求有误。"
    return render("exports/verify.html", form=form, results=results, checked=checked, error=error,
                  status=422 if error else 200)
