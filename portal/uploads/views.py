"""Serving an upload: only through scope, never by its original name or a guessable path."""
from flask import Blueprint
from flask_login import login_required

from portal.uploads import service
from portal.uploads.models import Upload
from tenants.scope import get_scoped_or_404

bp = Blueprint("uploads", __name__, url_prefix="/uploads")


@bp.get("/<int:upload_id>")
@login_required
def download(upload_id):
    return service.send(get_scoped_or_404(Upload, upload_id))
