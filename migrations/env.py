"""Alembic environment: uses the connection handed over by app.db.migrate() (the normal path),
or builds an engine from the same Settings as the service when run from the alembic CLI."""

from __future__ import annotations

import logging.config

from alembic import context
from sqlalchemy.engine import Connection

from app.config.settings import load_settings
from app.db.engine import hold_migration_lock, make_engine
from app.db.tables import metadata

config = context.config
target_metadata = metadata

# Only an alembic.ini with logging sections configures logging; the service keeps its own.
if config.config_file_name is not None and config.file_config.has_section("formatters"):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch copies the table
        compare_type=True,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        hold_migration_lock(connection)
        context.run_migrations()


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: print the SQL instead of running it."""
    context.configure(
        url=load_settings().database_url.get_secret_value(),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = make_engine(load_settings().database_url.get_secret_value())
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
