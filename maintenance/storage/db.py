"""The SQL database: SQLite embedded by default, PostgreSQL for real deployments.

Every change goes through `transaction()`: one unit of work, committed whole or rolled back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (no time zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times inside are timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # Sessions in UTC: timestamps come back as UTC whatever the server's zone, as the fast read
    # paths that hand driver values straight to JSON expect.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={"options": "-c timezone=UTC"},
    )


def database_up(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "down" for a health check
        return False


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


# What reporting tools may read: the ledger, tickets, alarms, plans; never accounts or keys.
REPORTING_TABLES = (
    "sites",
    "locations",
    "assets",
    "asset_devices",
    "technicians",
    "tickets",
    "ticket_events",
    "sla_breaches",
    "alarms",
    "alarm_events",
    "alarm_floods",
    "finding_reviews",
    "inspection_plans",
    "plan_occurrences",
)


def grant_reporting(engine: Engine, role: str) -> None:
    """PostgreSQL: SELECT on the reporting tables for a read-only role (Grafana); idempotent."""
    if engine.dialect.name != "postgresql":
        return
    preparer = engine.dialect.identifier_preparer
    with engine.begin() as connection:
        for table in REPORTING_TABLES:
            connection.execute(
                text(f"GRANT SELECT ON {preparer.quote(table)} TO {preparer.quote(role)}")
            )


class Database:
    def __init__(
        self, engine: Engine, *, before_commit: Sequence[Callable[[Session], None]] = ()
    ) -> None:
        """`before_commit`: steps every transaction runs just before it commits, in its own
        session (maintenance.flows.unit_of_work says which)."""
        self.engine = engine
        self.before_commit = tuple(before_commit)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._driver_reads: Engine | None = None
        self._driver_lock = threading.Lock()

    @property
    def has_driver_reads(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def driver_read(self, work: Callable[[Any], T]) -> T:
        """PostgreSQL only: `work(psycopg connection)` on a small pool of its own, for the few hot,
        bounded reads that skip the ORM (the ticket board). Autocommit, sessions in UTC,
        statements over 2 s cancelled (such a read may run on the event loop); no pre-ping: a
        connection that went away is dropped and the read tried once more."""
        with self._driver_lock:
            if self._driver_reads is None:
                self._driver_reads = create_engine(
                    self.engine.url,
                    pool_size=2,
                    max_overflow=8,
                    isolation_level="AUTOCOMMIT",
                    pool_reset_on_return=None,  # autocommit: no transaction to roll back
                    connect_args={"options": "-c timezone=UTC -c statement_timeout=2000"},
                )
            pool = self._driver_reads
        gone = pool.dialect.loaded_dbapi.OperationalError
        for attempt in (1, 2):
            proxy = pool.raw_connection()
            try:
                return work(proxy.driver_connection)
            except gone:
                proxy.invalidate()
                if attempt == 2:
                    raise
            finally:
                proxy.close()
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._driver_reads is not None:
            self._driver_reads.dispose()
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            for step in self.before_commit:
                step(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for one read-only statement: autocommit, so no BEGIN/COMMIT round trips.
        Only for reads that are consistent in a single statement."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            session = Session(bind=connection, expire_on_commit=False)
            try:
                yield session
            finally:
                session.close()


def insert_skipping_conflicts(session: Session, model: type[Base], key: Sequence[str]) -> Any:
    """INSERT ... ON CONFLICT (key) DO NOTHING on either supported database: rows another run
    (or a concurrent scheduler) already inserted are skipped, not an error; the one claim
    that makes generation idempotent. Add `.returning(...)` and execute it with the rows."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=list(key))
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing(index_elements=list(key))
    return insert(model)  # pragma: no cover - the two supported databases are above


def get_required(session: Session, model: type[T], key: int, kind: str) -> T:
    """session.get that raises NotFound(kind, key) instead of returning None."""
    from maintenance.errors import NotFound

    row = session.get(model, key)
    if row is None:
        raise NotFound(kind, key)
    return row


def utcnow() -> datetime:
    return datetime.now(UTC)
