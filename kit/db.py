"""SQLAlchemy 2 engines on SQLite or PostgreSQL (psycopg 3) from one DATABASE_URL.

Four ways in, each for one kind of work:

- `begin()`: a connection in a transaction that its unit of work commits or
  rolls back (kit.sql); every use case goes this way, through kit.uow.
- `transaction()`: a block committed when it ends, for work that is not a use
  case (a registry the live stream keeps, migrations' helpers, test set-up).
- `driver_transaction()`: a transaction of prepared statements on a psycopg
  connection of a pool of its own, for the one hot path where SQLAlchemy's
  cost per statement shows (reservations; kit.driver).
- `dedicated_connection()`: a session of its own outside the pool (LISTEN).

Every database error leaves translated the same way (`raise_translated`):
a conflict PostgreSQL aborted as retryable ABORTED, a lost database as
UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import psycopg
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from kit import errors
from kit.driver import DriverPool, Transaction

# SQLSTATEs after which the whole transaction may be run again.
_RETRYABLE = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_READONLY = "stockmesh_readonly"


def metadata() -> MetaData:
    """A service's table metadata, with the constraint names every service
    uses (ck_<table>_<rule>, uq_<table>_<columns>, ...), so migrations and
    error handling can refer to a rule by its name."""
    return MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def sync_url(url: str) -> URL:
    """The URL with a synchronous driver (Alembic, admin commands)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite")
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database {parsed.drivername!r}: use sqlite or postgresql")


def async_url(url: str) -> URL:
    parsed = sync_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    return parsed  # psycopg 3 serves both; create_async_engine picks its async side


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its directory."""
    parsed = sync_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def redacted(url: str) -> str:
    return sync_url(url).render_as_string(hide_password=True)


# psycopg prepares a statement on the server after its fifth execution, and
# PostgreSQL may then plan it once for any parameters (a generic plan). For
# a statement whose best plan depends on its parameters (which SKUs, which
# window) the generic plan can be pathological: demand for a few SKUs took
# 3 s instead of 11 ms. Every statement here is short and cheap to plan, so
# each execution is planned for its own parameters; a prepared statement
# still saves the parsing. Proven by tests/integration/stock/test_plans.py.
PLAN_CACHE_MODE = "force_custom_plan"
# The hot path's statements (`driver_transaction`) are the fixed batch
# statements of reservations. Every row they touch is found by its key, one
# key at a time (svc_stock/store/pg_batches.py), so their one plan does not
# depend on their values: each connection plans them once (a generic plan).
# Left to choose (`auto`), PostgreSQL planned them anew on 85 % of batches:
# 0.67 ms of the server's CPU a batch, against 2.0 ms of running them. JIT
# off: no batch is worth compiling, and an estimate made for unknown
# values once put a batch past jit_above_cost, 36 ms of compiling a
# statement that runs in 1 ms (docs/stock.md, Throughput step 12). Times in
# UTC: the batches read rows as JSON, where a timestamptz is written in the
# session's time zone, and decode them straight into the domain's values.
HOT_PATH_SETTINGS: Mapping[str, str] = {
    "plan_cache_mode": "force_generic_plan",
    "jit": "off",
    "TimeZone": "UTC",
}


def _session_options(target: URL, settings: Mapping[str, str]) -> str:
    """The URL's own `options`, if it has any, then these settings."""
    given = target.query.get("options")
    ours = " ".join(f"-c {name}={value}" for name, value in settings.items())
    return f"{given} {ours}" if isinstance(given, str) and given else ours


def _conninfo(target: URL) -> str:
    """The URL as libpq reads it, without its `options` (passed on their own)."""
    return (
        target.set(drivername="postgresql")
        .difference_update_query(["options"])
        .render_as_string(hide_password=False)
    )


class Database:
    """One engine per process; a connection per transaction from its pool.

    psycopg prepares a statement on a connection after its fifth run there
    and drops every prepared statement of the connection on any ROLLBACK
    (DEALLOCATE ALL). So what is only read ends with COMMIT (read-only
    units, `ping`), not with the pool's ROLLBACK as the connection goes
    back, and the pool hands out the connection returned last (LIFO): the
    busy statements stay prepared on the few connections that run them.
    Before, with every read rolled back and the connections taken in turn,
    the reservation batch statements (then on this pool) were parsed and
    planned again on more than half of their runs. On PostgreSQL the hot
    path has a pool of its own, of up to `pool_size` connections
    (`driver_transaction`)."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        target = async_url(url)
        self.url = url
        self.dialect = target.get_backend_name()
        options: dict[str, Any] = {"echo": echo}
        self._driver: DriverPool | None = None
        if self.dialect == "sqlite":
            ensure_sqlite_dir(url)
            options["connect_args"] = {"timeout": 30}
        else:
            options.update(
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=10,
                pool_recycle=1800,
                pool_use_lifo=True,
                connect_args={
                    "connect_timeout": 5,
                    "options": _session_options(target, {"plan_cache_mode": PLAN_CACHE_MODE}),
                },
            )
            self._driver = DriverPool(
                _conninfo(target),
                options=_session_options(target, HOT_PATH_SETTINGS),
                max_size=pool_size,
            )
        self.engine: AsyncEngine = create_async_engine(target, **options)
        if self.dialect == "sqlite":
            _sqlite_transactions(self.engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A read-write transaction, committed when the block ends without error."""
        try:
            async with self.engine.begin() as conn:
                yield conn
        except errors.ServiceError:
            raise
        except DBAPIError as exc:
            raise_translated(exc)

    async def begin(self, *, read_only: bool = False, repeatable: bool = False) -> AsyncConnection:
        """A connection with its transaction begun, for a unit of work that
        commits or rolls back itself (`kit.sql.SqlUnitOfWork`) and closes it."""
        try:
            conn = await self.engine.connect()
        except DBAPIError as exc:
            raise_translated(exc)
        try:
            if read_only:
                options: dict[str, Any] = {_READONLY: True}
                if repeatable and self.dialect == "postgresql":
                    options["isolation_level"] = "REPEATABLE READ"
                await conn.execution_options(**options)
            await conn.begin()
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, DBAPIError):
                raise_translated(exc)
            raise
        return conn

    @asynccontextmanager
    async def driver_transaction(self) -> AsyncIterator[Transaction]:
        """PostgreSQL only: a transaction of prepared statements on a psycopg
        connection of the hot path's own pool (`kit.driver`): committed when
        the block ends without error, rolled back quietly on
        `psycopg.Rollback`, rolled back on any other error. Errors translated
        as elsewhere."""
        if self._driver is None:
            raise RuntimeError("psycopg's own connection needs PostgreSQL")
        try:
            async with self._driver.transaction() as transaction:
                yield transaction
        except psycopg.Error as exc:
            raise_translated(exc)

    async def dedicated_connection(self, application_name: str) -> psycopg.AsyncConnection[Any]:
        """PostgreSQL only: a psycopg connection of its own, outside the pool,
        in autocommit, for a session that lasts as long as its user (LISTEN).
        Taken from the pool it would hold a slot for good and could be
        recycled under its session. The caller closes it."""
        if self.dialect != "postgresql":
            raise RuntimeError("a dedicated connection needs PostgreSQL")
        conninfo = sync_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            return await psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, connect_timeout=5, application_name=application_name
            )
        except psycopg.Error as exc:
            raise_translated(exc)

    async def ping(self, timeout: float = 2.0) -> bool:
        """True when a fresh query answers within `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                    await conn.commit()  # not the pool's ROLLBACK: see `Database`
            return True
        except Exception:  # noqa: BLE001 - any failure means "not reachable now"
            return False

    async def dispose(self) -> None:
        if self._driver is not None:
            await self._driver.close()
        await self.engine.dispose()


# PostgreSQL: connection exceptions, and the server shutting down or starting.
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")
_SQLITE_UNREACHABLE = ("unable to open database file", "disk I/O error")


def raise_translated(exc: DBAPIError | psycopg.Error) -> NoReturn:
    """Conflicts become ABORTED (retryable), a lost database UNAVAILABLE;
    anything else (an IntegrityError a store did not expect) stays as it is.
    Takes SQLAlchemy's wrapper or psycopg's own error (`driver_transaction`)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _RETRYABLE:
        raise errors.Aborted("concurrent update conflict; retry", reason="TRANSACTION_CONFLICT") from exc
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    operational = isinstance(exc, OperationalError | psycopg.OperationalError)
    unreachable = invalidated or (
        operational
        and (
            (sqlstate is None and not isinstance(orig, sqlite3.Error))  # psycopg: could not connect
            or (sqlstate or "").startswith(_UNREACHABLE_STATES)
            or any(text in str(orig) for text in _SQLITE_UNREACHABLE)
        )
    )
    if unreachable:
        raise errors.Unavailable("the database is unreachable", reason="DATABASE_UNAVAILABLE") from exc
    raise exc


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """SQLite: WAL, foreign keys, and BEGIN IMMEDIATE for writes, so two writers
    queue on the lock at BEGIN instead of one failing when it upgrades later."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get(_READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware.

    SQLite has no timezone type and would hand back naive datetimes, which
    cannot be compared with the aware `datetime.now(UTC)` the code uses.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self, timezone: bool = True) -> None:
        super().__init__(timezone=timezone)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
