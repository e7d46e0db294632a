"""The schema comes only from the migrations: what they build must be exactly what the models
declare (tables, columns, types, indexes, constraints), on each database the suite runs on."""
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal.extensions import db


def test_the_migrations_build_exactly_what_the_models_declare(session):
    assert compare_metadata(MigrationContext.configure(session.connection()), db.metadata) == []


def test_the_migrations_have_one_head_so_the_plain_upgrade_works(app):
    """`flask --app wsgi db upgrade` (no "heads") is what operators type: it fails with
    "Multiple head revisions" as soon as a second head appears (a branch joined only by
    `depends_on` is still a head)."""
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_the_makefile_and_the_tests_upgrade_as_operators_do():
    root = Path(__file__).resolve().parent.parent
    for path in [root / "Makefile", root / "tests" / "conftest.py", root / "bench" / "common.py",
                 root / "README.md"]:
        text = path.read_text()
        assert "upgrade heads" not in text and 'revision="heads"' not in text, path
