"""Summaries: list and compose, read and edit a draft, issue it."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_login import login_required

from portal.exports import jobs
from portal.summaries import service
from portal.summaries.models import KINDS, Summary
from portal.web import attempt, form_status, paginate, render
from tenants import clock
from tenants.scope import get_scoped_or_404

bp = Blueprint("summaries", __name__, url_prefix="/summaries")


def _list_page(error: str | None = None):
    home = g.membership.tenant
    return render("summaries/index.html", "rows", page=paginate(service.listed(home)), home=home, KINDS=KINDS,
                  today=clock.today(), error=error, may_write=service.may_write(home, g.membership),
                  status=form_status() if error else 200)


@bp.get("/")
@login_required
def index():
    return _list_page()


@bp.post("/")
@login_required
def compose():
    try:
        day = date.fromisoformat(request.form.get("day", ""))
    except ValueError:
        return _list_page("请填写该期内的任一日期（年-月-日）。")
    summary, error = attempt(lambda: service.compose(g.membership.tenant, request.form.get("kind", ""), day,
                                                     g.membership))
    if error:
        return _list_page(error)
    return redirect(url_for("summaries.show", summary_id=summary.id), code=303)


def _page(summary: Summary, error: str | None = None, status: int = 200):
    node, units = service.rows_of(summary)
    return render("summaries/show.html", summary=summary, node=node, units=units, columns=service.COLUMNS,
                  sections=list(zip(service.PARAGRAPHS, summary.paragraphs)), error=error, status=status,
                  may_write=service.may_write(summary, g.membership) and not summary.issued)


@bp.get("/<int:summary_id>")
@login_required
def show(summary_id):
    summary = get_scoped_or_404(Summary, summary_id)
    if not summary.issued and summary.tenant_id != g.membership.tenant_id:
        abort(404)  # a draft is its own level's until issued
    return _page(summary)


@bp.post("/<int:summary_id>")
@login_required
def edit(summary_id):
    summary = get_scoped_or_404(Summary, summary_id)
    _, error = attempt(lambda: service.edit(summary, request.form.getlist("paragraph"),
                                            request.form.get("doc_number", ""), g.membership))
    if error:
        return _page(summary, error, 422)
    flash("已保存。", "success")
    return redirect(url_for("summaries.show", summary_id=summary.id), code=303)


@bp.post("/<int:summary_id>/issue")
@login_required
def issue(summary_id):
    summary = get_scoped_or_404(Summary, summary_id)
    result, error = attempt(lambda: service.issue(summary, g.membership))
    if error:
        return _page(summary, error, 422)
    pdf, docx = result
    # One after the other: on SQLite two exports at once collide (each run writes its digest
    # while it reads), and the .docx takes a fraction of a second, so it is made here.
    jobs.run(docx.id, g.membership.id)
    jobs.submit(pdf.id, g.membership.id)
    flash("已印发：PDF 和 Word 文件正在生成。", "success")
    return redirect(url_for("summaries.show", summary_id=summary.id), code=303)
