"""The schema comes only from the migrations: what they build must be exactly what the models
declare (tables, columns, types, indexes, constraints), on each database the suite runs on."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


def test_the_migrations_build_exactly_what_the_models_declare(session):
    assert compare_metadata(MigrationContext.configure(session.connection()), db.metadata) == []
