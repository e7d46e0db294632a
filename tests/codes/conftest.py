"""Code fixtures shared with the access matrix."""
from portal.codes import service
from tests.hazards.conftest import member


def sample_records(session, tree, make_user) -> dict:
    """A code in force for 甲商场, issued by 甲区's admin."""
    service.issue(tree["a_shop"], member(make_user(tree["a"], role="admin")))
    session.flush()
    return {}
