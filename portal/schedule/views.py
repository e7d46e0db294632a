"""The admin page of periodic jobs: each job's last run, then every run with its duration."""
from flask import Blueprint
from flask_login import login_required

from portal.schedule import service
from portal.web import paginate, render, requires

bp = Blueprint("schedule", __name__, url_prefix="/schedule")


@bp.get("/")
@login_required
@requires("schedule.read")
def runs():
    return render("schedule/runs.html", "runs", page=paginate(service.recent_runs(), per_page=50),
                  last=service.last_runs(), labels=service.LABELS)
