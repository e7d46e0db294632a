"""The overdue ladder with a frozen clock, the roll-ups it feeds, and boards whose query count does
not grow with the number of rows on them."""
from datetime import timedelta

import pytest
from sqlalchemy import event

from portal.plans import service
from tests.conftest import login
from tests.plans.conftest import TODAY, assign, assignment_of, membership

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.mark.parametrize("deadline,done,colour", [
    (TODAY - timedelta(days=1), False, "red"),
    (TODAY, False, "yellow"),
    (TODAY + timedelta(days=3), False, "yellow"),
    (TODAY + timedelta(days=4), False, "green"),
    (TODAY - timedelta(days=30), True, "done"),
])
def test_ladder_colours(deadline, done, colour):
    assert service.ladder_of(deadline, done, TODAY) == colour


def test_the_grouped_counts_follow_the_same_ladder_as_each_row(session, tree, national, streets, people, frozen):
    """One task per colour, plus one done; the SQL roll-up and the per-row colour agree as days pass."""
    tasks = {key: assign(tree, people, national, streets[:1], deadline=deadline, key=key, title=key)
             for key, deadline in (("soon", TODAY + timedelta(days=2)), ("later", TODAY + timedelta(days=10)),
                                   ("finished", TODAY + timedelta(days=10)))}
    done = assignment_of(session, tasks["finished"], streets[0])
    street, district = membership(people["street"]), membership(people["district"])
    service.sign(done, street)
    service.report(done, street, body="完成")
    service.approve(done, district)
    for day, expected in ((TODAY, {"soon": "yellow", "later": "green"}),
                          (TODAY + timedelta(days=3), {"soon": "red", "later": "green"}),
                          (TODAY + timedelta(days=8), {"soon": "red", "later": "yellow"})):
        frozen(day)
        counts = service.rollups([t.id for t in tasks.values()])
        for key, colour in expected.items():
            assert service.ladder(assignment_of(session, tasks[key], streets[0])) == colour
            assert counts[tasks[key].id].colours == {colour: 1}
        assert counts[tasks["finished"].id].colours == {"done": 1}
    by_child = dict((unit.name, r) for unit, r in service.child_rollups(tree["a"]))
    assert (by_child["甲街道"].total, by_child["甲街道"].done, by_child["甲街道"].overdue) == (3, 1, 1)


def _selects(session, fn) -> int:
    found = []
    engine = session.get_bind().engine
    listener = lambda conn, cursor, statement, *a: found.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return sum(1 for s in found if s.lstrip().upper().startswith("SELECT"))


def test_the_board_costs_the_same_queries_for_two_tasks_or_twenty(client, session, tree, national, streets, people):
    login(client, people["district"])
    first = assign(tree, people, national, streets, key="first", title="任务0")

    def measure():
        session.commit()
        urls = ("/tasks/", f"/tasks/{first.id}", "/tasks/received")
        for url in urls:
            client.get(url, headers={"HX-Request": "true"})  # warm: the login's own lookups
        return [_selects(session, lambda: client.get(url, headers={"HX-Request": "true"})) for url in urls]

    assign(tree, people, national, streets, key="second", title="任务1")
    with_two = measure()
    for i in range(18):
        assign(tree, people, national, streets, key=f"more{i}", title=f"任务{i + 2}")
    assert measure() == with_two


def test_the_kept_board_shows_a_report_at_once_and_each_reader_posts_with_their_own_token(
        app, client, session, tree, national, streets, people, make_user, frozen):
    """The board is kept between requests (portal.web.kept_rows) for everyone of the unit's scope:
    a unit's report below shows at once, and the 一键催办 form in it carries each reader's own form
    token (a kept copy of someone else's would be refused as forged)."""
    import re
    task = assign(tree, people, national, streets[:1], deadline=TODAY + timedelta(days=1), key="late", title="逾期任务")
    frozen(TODAY + timedelta(days=5))
    colleague = make_user(tree["a"], role="admin")
    session.commit()
    other = app.test_client()
    login(client, people["district"])
    login(other, colleague)

    def board(c) -> str:
        return c.get("/tasks/", headers={"HX-Request": "true"}).get_data(as_text=True)
    board(client)
    first = board(client)
    assert "数据截至" in first and "一键催办全部逾期单位" in first and "逾期任务" in first
    seen = board(other)
    assert "数据截至" in seen  # the colleague is given the kept board
    for c, html in ((client, first), (other, seen)):
        token = re.search(r'action="/tasks/remind"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
                          html).group(1)
        assert c.post("/tasks/remind", data={"csrf_token": token}).status_code == 303
    # The street signs and reports: the district's board says so at once, counted afresh.
    street = membership(people["street"])
    assignment = assignment_of(session, task, streets[0])
    service.sign(assignment, street)
    service.report(assignment, street, body="已完成")
    session.commit()
    after = board(client)
    assert "数据截至" not in after and re.search(r"逾期任务.*?已上报", after, re.S)
