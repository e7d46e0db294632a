"""Where a scanned code leads, the enterprise's code panel (issue, revoke, reissue) and its poster."""
from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_login import current_user, login_required

from portal.codes import service
from portal.exports import access, jobs
from portal.exports.service import request_export
from portal.web import attempt, render, requires
from tenants.scope import current_scope, get_covered_or_404, get_managed_or_404

bp = Blueprint("codes", __name__)


@bp.get("/q/<token>")
def scan(token):
    """Public: what the QR code on the gate opens. The people who work on the enterprise land on its
    page; everyone else on the tip form for it. A revoked code says so."""
    code = service.lookup(token)
    if code is None:
        abort(404)
    if not code.in_force:
        return render("codes/revoked.html", code=code, status=410)
    if current_user.is_authenticated and g.membership is not None and current_scope().contains(code.tenant):
        return redirect(url_for("tenants.show", tenant_id=code.tenant_id))
    return redirect(url_for("tips.new", code=code.token))


@bp.get("/tenants/<int:tenant_id>/code")
@login_required
def show(tenant_id):
    enterprise = get_covered_or_404(tenant_id)
    if enterprise.kind != "enterprise":
        abort(404)
    code = service.in_force(enterprise)
    return render("codes/show.html", enterprise=enterprise, code=code, history=service.history(enterprise),
                  url=url_for("codes.scan", token=code.token, _external=True) if code else None,
                  qr=service.qr_svg(url_for("codes.scan", token=code.token, _external=True)) if code else None,
                  may_print=access.may_request(g.membership.role, service.POSTER))


@bp.post("/tenants/<int:tenant_id>/code")
@login_required
@requires("codes.manage")
def issue(tenant_id):
    enterprise = get_managed_or_404(tenant_id)
    _, error = attempt(lambda: service.issue(enterprise, g.membership))
    flash(error or "已生成一企一码。请打印海报张贴在企业出入口。", "error" if error else "success")
    return redirect(url_for("codes.show", tenant_id=enterprise.id), code=303)


@bp.post("/tenants/<int:tenant_id>/code/revoke")
@login_required
@requires("codes.manage")
def revoke(tenant_id):
    enterprise = get_managed_or_404(tenant_id)
    reissue = request.form.get("reissue") == "1"
    _, error = attempt(lambda: service.revoke(enterprise, g.membership, reissue=reissue,
                                              reason=request.form.get("reason", "")))
    done = "已作废原二维码并生成新二维码：请打印新海报替换旧海报。" if reissue else \
        "已作废该企业的二维码；扫描旧海报将提示二维码已作废。"
    flash(error or done, "error" if error else "success")
    return redirect(url_for("codes.show", tenant_id=enterprise.id), code=303)


@bp.post("/tenants/<int:tenant_id>/code/poster")
@login_required
def poster(tenant_id):
    enterprise = get_covered_or_404(tenant_id)
    if enterprise.kind != "enterprise" or not access.may_request(g.membership.role, service.POSTER):
        abort(404)
    code = service.in_force(enterprise)
    if code is None:
        flash("该企业还没有在用的二维码，请先由管理员生成。", "error")
        return redirect(url_for("codes.show", tenant_id=enterprise.id), code=303)
    url = url_for("codes.scan", token=code.token, _external=True)
    doc, error = attempt(lambda: request_export(enterprise, kind=service.POSTER, title=f"{enterprise.name}一企一码海报",
                                                params=service.request_poster_params(code, url), actor=g.membership))
    if error:
        flash(error, "error")
        return redirect(url_for("codes.show", tenant_id=enterprise.id), code=303)
    jobs.submit(doc.id, g.membership.id)
    return redirect(url_for("exports.show", doc_id=doc.id), code=303)


@bp.post("/tenants/<int:tenant_id>/codes")
@login_required
@requires("codes.manage")
def issue_missing(tenant_id):
    node = get_managed_or_404(tenant_id)
    count, error = attempt(lambda: service.issue_missing(node, g.membership))
    if error is None:
        done = f"已为 {count} 家企业生成一企一码，请在各企业的“一企一码”页面打印海报。" if count else "辖区内企业都已有在用的一企一码。"
    flash(error or done, "error" if error else "success")
    return redirect(url_for("tenants.show", tenant_id=node.id), code=303)
