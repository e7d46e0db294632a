"""A letter answered or closed by two people at the same moment, on real concurrent connections:
one reply is recorded (with its files and one audit event), one 办结; the other is told."""
import pytest
from sqlalchemy import func, select

from portal.accountability import letters
from portal.accountability.models import Letter, LetterFile
from tests.accountability.test_letters import PDF, _send, overdue  # noqa: F401  (fixture)
from tests.conftest import audited, race, refused
from tests.inspections.conftest import member


@pytest.fixture
def session(committed_session):
    return committed_session


@pytest.fixture
def sent(session, tree, field, overdue):  # noqa: F811  (the fixture imported above)
    return _send(field, f"task:{overdue.id}", tree["a_street"])


def test_two_replies_at_once_record_one(session, tree, field, make_user, sent):
    other = member(make_user(tree["a_street"], role="admin"))

    def answer(text):
        return lambda m, letter: letters.reply(letter, m, text, [(f"{text}.pdf", PDF)])

    outcomes = race((answer("甲答复"), field["street"], sent), (answer("乙答复"), other, sent))

    assert len(refused(outcomes)) == 1 and "已有回复" in refused(outcomes)[0]
    letter = session.get(Letter, sent.id)
    assert letter.state == "replied" and letter.reply in ("甲答复", "乙答复")
    # The loser's file was not kept: the one reply carries its own file only.
    assert [f.filename for f in letter.files] == [f"{letter.reply}.pdf"]
    assert session.execute(select(func.count()).select_from(LetterFile)).scalar_one() == 1
    assert audited(letter, "letter.replied") == ["letter.replied"]


def test_a_reply_and_a_close_at_once_record_one_of_them(session, field, sent):
    outcomes = race((lambda m, x: letters.reply(x, m, "答复", []), field["street"], sent),
                    (lambda m, x: letters.close(x, m, "办结"), field["discipline"], sent))

    letter = session.get(Letter, sent.id)
    if refused(outcomes):  # at once (PostgreSQL): the one that read "待回复" second is told
        assert len(refused(outcomes)) == 1
        assert audited(letter, "letter.replied", "letter.closed") == \
            (["letter.replied"] if letter.state == "replied" else ["letter.closed"])
    else:  # queued one after the other (SQLite's writer lock): replied, then closed
        assert audited(letter, "letter.replied", "letter.closed") == ["letter.replied", "letter.closed"]


def test_two_closes_at_once_record_one(session, field, sent):
    outcomes = race((lambda m, x: letters.close(x, m, "甲意见"), field["discipline"], sent),
                    (lambda m, x: letters.close(x, m, "乙意见"), field["leader"], sent))

    assert len(refused(outcomes)) == 1 and "已有变化" in refused(outcomes)[0]
    letter = session.get(Letter, sent.id)
    assert letter.state == "closed" and letter.outcome in ("甲意见", "乙意见")
    assert audited(letter, "letter.closed") == ["letter.closed"]
