"""A register's rows as the domain sees them: plain dicts keyed by their key columns, and
the table that holds them (name, ordered columns with their DuckDB types, key)."""

from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
Key = tuple[Any, ...]
Rows = dict[Key, Row]


@dataclass(frozen=True)
class Table:
    """A projection table: name, ordered columns (name -> DuckDB type), key columns."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]

    def ddl(self) -> str:
        """No PRIMARY KEY index: a projection keeps its keys unique (it loads every
        touched key, deletes the rows it replaces, inserts each key once), and the index
        grew memory with the table and made every checkpoint rewrite it whole."""
        cols = ",\n  ".join(f"{name} {kind}" for name, kind in self.columns.items())
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols}\n)"

    def key_of(self, row: Row) -> Key:
        return tuple(row[k] for k in self.key)
