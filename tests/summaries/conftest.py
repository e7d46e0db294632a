"""Summary records for the access matrix."""
from datetime import date

from portal.summaries import service


def sample_records(session, tree, make_user):
    """An issued 季通报 of 甲区 with its PDF and .docx queued: the matrix's summary_id."""
    (actor,) = make_user(tree["a"], role="admin").memberships
    summary = service.compose(tree["a"], "quarter", date(2024, 5, 1), actor)
    summary.title = "甲区机密总结"
    service.issue(summary, actor)
    return {"summary_id": [summary.id]}
