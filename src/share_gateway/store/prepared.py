"""Statements compiled once and run on the DBAPI cursor: the hot path's writes and reads (see ``Prepared``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once and run on the DBAPI cursor, with SQLAlchemy's own type conversions.

    Only for the inquiry path's two statements (read a subject's records,
    append events), where SQLAlchemy's per-execution machinery costs several
    times the query itself. Values still pass through the column types' bind
    and result processors, so what is stored and read is exactly what the
    regular repositories store and read.
    """

    sql: str
    order: tuple[str, ...] | None
    defaults: dict[str, Any]
    binds: dict[str, Any]
    results: tuple[tuple[int, Any], ...]

    @classmethod
    def compile(cls, statement: Any, engine: Engine) -> Prepared:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        binds = {
            name: processor
            for name, parameter in compiled.binds.items()
            if (processor := parameter.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        columns = getattr(statement, "selected_columns", ())
        processors = (column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
        results = tuple((index, p) for index, p in enumerate(processors) if p is not None)
        order = tuple(compiled.positiontup) if compiled.positiontup else None
        defaults = {name: p.value for name, p in compiled.binds.items() if not p.required}
        return cls(compiled.string, order, defaults, binds, results)

    @property
    def _plan(self) -> list[tuple[str, Any, Any]]:
        """(name, default, bind processor) per parameter, in the order the statement takes them."""
        plan = self.__dict__.get("_plan_cache")
        if plan is None:
            names = self.order if self.order is not None else tuple(self.defaults.keys() | self.binds.keys())
            plan = [(name, self.defaults.get(name), self.binds.get(name)) for name in names]
            object.__setattr__(self, "_plan_cache", plan)
        return plan

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        if self.order is None:
            merged = {**self.defaults, **values}
            for name, processor in self.binds.items():
                merged[name] = processor(merged[name])
            return merged
        get = values.get
        return tuple(
            get(name, default) if processor is None else processor(get(name, default))
            for name, default, processor in self._plan
        )

    def rows(self, cursor: Any, values: dict[str, Any]) -> list[list[Any]]:
        cursor.execute(self.sql, self.parameters(values))
        rows = [list(row) for row in cursor.fetchall()]
        for index, processor in self.results:
            for row in rows:
                row[index] = processor(row[index])
        return rows

    def execute_many(self, cursor: Any, values: list[dict[str, Any]]) -> None:
        cursor.executemany(self.sql, [self.parameters(v) for v in values])
