"""The landing page after login."""
from flask import Blueprint, g, redirect, url_for
from flask_login import current_user

from portal.web import render
from tenants import service

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    home = g.membership.tenant if g.membership else None
    counts = service.subtree_counts(home) if home else {}
    return render("home.html", home=home, counts=counts,
                  ancestors=service.ancestors(home) if home else [])
