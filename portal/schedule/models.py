"""One row per run of a periodic job: the run's record on the admin page, and its lock."""
from portal.extensions import db
from tenants.clock import now

RESULTS = {"running": "运行中", "ok": "成功", "failed": "失败"}


class ScheduleRun(db.Model):
    """Not tenant-owned: the jobs work across the whole tree. (job, slot) is unique, so of two
    schedulers that find a job due for the same slot exactly one inserts its row and runs it,
    on SQLite and PostgreSQL alike."""

    __tablename__ = "schedule_runs"

    id = db.Column(db.Integer, primary_key=True)
    job = db.Column(db.String(40), nullable=False)
    # The start of the period this run is for (a half hour, a day), naive UTC.
    slot = db.Column(db.DateTime, nullable=False)
    started_at = db.Column(db.DateTime, nullable=False, default=now)
    finished_at = db.Column(db.DateTime)
    seconds = db.Column(db.Float)
    result = db.Column(db.String(16), nullable=False, default="running")
    # What the job reports (counts), or the error, for the operator.
    summary = db.Column(db.String(500))

    __table_args__ = (db.UniqueConstraint("job", "slot", name="uq_schedule_runs_job_slot"),
                      db.Index("ix_schedule_runs_started_at", "started_at"))

    @property
    def result_label(self) -> str:
        return RESULTS[self.result]
