"""Core statements compiled once and run straight on a DBAPI cursor: the webhook's hot path.

A webhook call runs about seven small statements. Through a ``Session`` each one costs several
times what the database spends on it, in SQLAlchemy's bookkeeping (docs/benchmarks.md, "Figures
behind choices in the code"). Here a
statement is compiled by SQLAlchemy for the engine's dialect once (per set of parameter names), and
each run only converts the values (SQLAlchemy's own bind/result processors, so JSON, UTC datetimes
and booleans are stored exactly as the ORM stores them) and calls ``cursor.execute``.

What SQLAlchemy's execution context would add is done here too: Python-side column defaults of an
INSERT and ``onupdate`` values of an UPDATE (the compiler lists them as "prefetch" columns), and
DBAPI errors come out wrapped as SQLAlchemy's (``IntegrityError``, ``OperationalError`` …) so callers
and retries treat both paths alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class _DefaultContext:
    """What a context-sensitive column default reads (SQLAlchemy passes its execution context)."""

    __slots__ = ("current_parameters",)

    def __init__(self, params: MutableMapping[str, Any]):
        self.current_parameters = params

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> MutableMapping[str, Any]:
        return self.current_parameters


class _Compiled:
    """One statement compiled for one dialect and one set of parameter names."""

    def __init__(self, stmt: ClauseElement, dialect: Dialect, keys: Sequence[str]):
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
        processors = {
            escaped.get(name, name): proc for name, bind in compiled.binds.items()
            if (proc := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        # What construct_params would do on every call, worked out once: constants (the literals of
        # the statement) converted now, and for every other bind the caller's key it is read from.
        given = set(keys)
        self._sources: list[tuple[str, str, Any]] = []
        for bind, name in compiled.bind_names.items():
            source = bind.key if bind.key in given else name if name in given else None
            if source is not None:
                out = escaped.get(name, name)
                self._sources.append((out, source, processors.get(out)))
        sourced = {out for out, _, _ in self._sources}
        self._template = {
            name: (processors[name](value) if name in processors else value)
            for name, value in compiled.construct_params({}, _check=False).items() if name not in sourced
        }
        prefetch: list[tuple[str, Any]] = [(c.key, c.default) for c in compiled.insert_prefetch]
        prefetch += [(c.key, c.onupdate) for c in compiled.update_prefetch]
        self._prefetch = [(escaped.get(key, key), key, d, processors.get(escaped.get(key, key)))
                          for key, d in prefetch if d is not None]
        self.positional = (
            [escaped.get(n, n) for n in compiled.positiontup or []] if dialect.positional else None
        )
        columns = list(getattr(stmt, "selected_columns", []) or [])
        self.result_processors = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]

    def parameters(self, params: Mapping[str, Any]) -> Any:
        values = self._template.copy()
        for out, source, proc in self._sources:
            value = params[source]
            values[out] = proc(value) if proc is not None else value
        if self._prefetch:
            context = None
            for out, key, default, proc in self._prefetch:
                if key in params:
                    continue
                if default.is_callable:
                    context = context or _DefaultContext(dict(params))
                    value = default.arg(context)
                else:
                    value = default.arg
                if context is not None:
                    context.current_parameters[key] = value
                values[out] = proc(value) if proc is not None else value
        if self.positional is not None:
            return tuple(values[name] for name in self.positional)
        return values

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            proc(value) if proc is not None else value
            for value, proc in zip(raw, self.result_processors, strict=False)
        ) if self.result_processors else tuple(raw)


class Prepared:
    """A Core statement (built once at import) ready to run through :class:`Tx` on any engine."""

    def __init__(self, stmt: ClauseElement):
        self.stmt = stmt
        self._compiled: dict[tuple[int, frozenset[str]], _Compiled] = {}

    def compiled(self, dialect: Dialect, keys: Mapping[str, Any]) -> _Compiled:
        cache_key = (id(dialect), frozenset(keys))
        found = self._compiled.get(cache_key)
        if found is None:  # a few shapes per process; a race only compiles twice
            found = self._compiled[cache_key] = _Compiled(self.stmt, dialect, sorted(keys))
        return found


class Tx:
    """One open transaction on a DBAPI connection, running :class:`Prepared` statements."""

    __slots__ = ("_base_error", "cursor", "dialect")

    def __init__(self, cursor: Any, dialect: Dialect):
        self.cursor = cursor
        self.dialect = dialect
        self._base_error: type[Exception] = dialect.loaded_dbapi.Error

    def _run(self, stmt: Prepared, params: Mapping[str, Any]) -> _Compiled:
        compiled = stmt.compiled(self.dialect, params)
        args = compiled.parameters(params)
        try:
            self.cursor.execute(compiled.sql, args)
        except self._base_error as e:
            raise _wrapped(compiled.sql, args, e, self.dialect) from e
        return compiled

    def execute(self, stmt: Prepared, params: Mapping[str, Any]) -> int:
        """Run a statement; the number of rows it changed."""
        self._run(stmt, params)
        return int(self.cursor.rowcount)

    def first(self, stmt: Prepared, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run a query (or DML with RETURNING); its first row, converted, or None."""
        compiled = self._run(stmt, params)
        raw = self.cursor.fetchone()
        if raw is None:
            return None
        self.cursor.fetchall()  # leave the cursor clean for the next statement
        return compiled.row(raw)

    def all(self, stmt: Prepared, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        compiled = self._run(stmt, params)
        return [compiled.row(raw) for raw in self.cursor.fetchall()]


def _wrapped(sql: str, args: Any, error: Exception, dialect: Dialect) -> BaseException:
    return DBAPIError.instance(sql, args, error, dialect.loaded_dbapi.Error, dialect=dialect)


@contextmanager
def transaction(engine: Engine, *, immediate: bool = False) -> Iterator[Tx]:
    """A :class:`Tx` on a pooled connection: committed on success, rolled back on error.

    SQLite: ``BEGIN`` explicitly (``BEGIN IMMEDIATE`` with ``immediate``: take the write lock up front,
    see :meth:`fallback.store.db.Database.session`), so reads see one snapshot.
    """
    dialect = engine.dialect
    conn = engine.raw_connection()
    try:
        cursor = conn.cursor()
        try:
            if dialect.name == "sqlite":
                begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
                try:
                    cursor.execute(begin)
                except dialect.loaded_dbapi.Error as e:
                    raise _wrapped(begin, (), e, dialect) from e
            yield Tx(cursor, dialect)
            try:
                conn.commit()
            except dialect.loaded_dbapi.Error as e:
                raise _wrapped("COMMIT", (), e, dialect) from e
        except BaseException:
            conn.rollback()
            raise
        finally:
            cursor.close()
    finally:
        conn.close()  # back to the pool


__all__ = ["Prepared", "Tx", "transaction"]
