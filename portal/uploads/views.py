"""Serving an upload: only through scope, never by its original name or a guessable path."""
from urllib.parse import quote

from flask import Blueprint, Response
from flask_login import login_required

from portal.uploads.models import Upload
from tenants.scope import get_scoped_or_404

bp = Blueprint("uploads", __name__, url_prefix="/uploads")


@bp.get("/<int:upload_id>")
@login_required
def download(upload_id):
    upload = get_scoped_or_404(Upload, upload_id)
    response = Response(upload.content, mimetype=upload.mimetype)
    # Only PDFs and images open in the browser; Office files download.
    disposition = "inline" if upload.kind in ("pdf", "image") else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(upload.filename)}"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
