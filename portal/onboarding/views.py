"""批量导入: templates, upload and check, preview, commit; the account letters are an export."""
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_login import login_required
from sqlalchemy import select

from portal import spreadsheets
from portal.errors import Refused
from portal.exports import jobs
from portal.extensions import db
from portal.onboarding import imports
from portal.onboarding.forms import ConfirmForm, UploadForm
from portal.uploads import service as uploads
from portal.uploads.models import Upload
from portal.web import attempt, render, requires

bp = Blueprint("onboarding", __name__, url_prefix="/onboarding")
# Above this many accounts the letters PDF gets a process of its own (see exports.jobs).
HEAVY_LETTERS = 500


def _kind_or_404(kind: str) -> str:
    if kind not in imports.IMPORTS:
        abort(404)
    return kind


def _index(error=None, kind=None, status=200):
    return render("onboarding/index.html", forms={k: UploadForm(prefix=k) for k in imports.IMPORTS}, error=error,
                  error_kind=kind, IMPORTS=imports.IMPORTS, COLUMNS=imports.COLUMNS, REQUIRED=imports.REQUIRED,
                  NOTES=imports.NOTES, recent=imports.recent(g.membership.tenant), status=status)


@bp.get("/")
@login_required
@requires("users.manage")
def index():
    return _index()


@bp.get("/template.xlsx")
@login_required
@requires("users.manage")
def template():
    kind = _kind_or_404(request.args.get("kind", ""))
    response = Response(imports.template(kind), mimetype=spreadsheets.XLSX)
    name = f"{imports.IMPORTS[kind]}导入模板.xlsx"
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@bp.post("/")
@login_required
@requires("users.manage")
def upload():
    kind = _kind_or_404(request.form.get("kind", ""))
    # Both upload forms are on one page; the prefix keeps their fields' ids apart.
    form = UploadForm(prefix=kind)
    if not form.validate_on_submit():
        return _index("；".join(e for errs in form.errors.values() for e in errs), kind, 422)
    file = form.file.data
    data = uploads.read_limited(file.stream)
    home = g.membership.tenant

    def check_and_keep():
        # The whole file is checked before anything is kept: a refused file leaves no trace.
        imports.plan(home, kind, data)
        return uploads.store(home, file.filename or "导入.xlsx", data, kinds=("office",), actor=g.membership)
    stored, error = attempt(check_and_keep)
    if error is not None:
        return _index(error, kind, 422)
    return redirect(url_for("onboarding.preview", token=stored.token, kind=kind), code=303)


def _upload_or_404(token: str) -> Upload:
    # The importing unit's own file only: a token from elsewhere in the subtree is not a preview here.
    found = db.session.execute(select(Upload).where(Upload.token == token,
                                                    Upload.tenant_id == g.membership.tenant_id)).scalar_one_or_none()
    if found is None:
        abort(404)
    return found


# The kind travels in the query string: the token alone names the file, and is checked first.
@bp.route("/imports/<token>", methods=["GET", "POST"])
@login_required
@requires("users.manage")
def preview(token):
    stored = _upload_or_404(token)
    kind = _kind_or_404(request.args.get("kind", ""))
    home = g.membership.tenant
    form = ConfirmForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        result, error = attempt(lambda: imports.commit(home, kind, stored, url_for("auth.login", _external=True),
                                                             g.membership))
        if error is None:
            checked, doc = result
            jobs.submit(doc.id, g.membership.id, heavy=len(checked.people) > HEAVY_LETTERS)
            flash(f"已导入 {len(checked.enterprises)} 家企业、{len(checked.people)} 个账号（{checked.roles} 个角色）。"
                  "账号通知书正在生成，每人一页，含初始密码，请打印后当面交给本人。", "success")
            return redirect(url_for("exports.show", doc_id=doc.id), code=303)
    done = imports.imported_by(stored)
    checked = None
    if done is None and error is None:
        try:
            checked = imports.plan(home, kind, stored.content)
        except Refused as e:
            error = str(e)
    return render("onboarding/preview.html", kind=kind, upload=stored, form=form, plan=checked, done=done,
                  error=error, IMPORTS=imports.IMPORTS, holders=imports.holders(checked) if checked else {},
                  status=422 if error else 200)
