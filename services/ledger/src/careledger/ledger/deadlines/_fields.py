"""Typed reads from parsed TOML tables: each failure names the file, the field and the rule."""

import datetime as dt
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from careledger.ledger.deadlines._errors import PolicyFileError

T = TypeVar("T")
Table = Mapping[str, Any]


def read_toml(path: Path) -> tuple[Table, bytes]:
    """The parsed table and the raw bytes (hashed to record which file was used)."""
    raw = path.read_bytes()
    try:
        return tomllib.loads(raw.decode("utf-8")), raw
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyFileError(f"{path}: not valid UTF-8 TOML ({exc})") from exc


def _typed(table: Table, key: str, kind: type[T], where: str, expected: str) -> T | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) and kind is not bool:
        raise PolicyFileError(f"{where}: field '{key}' must be {expected}, got {value!r}")
    if not isinstance(value, kind):
        raise PolicyFileError(f"{where}: field '{key}' must be {expected}, got {value!r}")
    return value


def required(value: T | None, key: str, where: str) -> T:
    if value is None:
        raise PolicyFileError(f"{where}: field '{key}' is required")
    return value


def text(table: Table, key: str, where: str) -> str:
    return required(opt_text(table, key, where), key, where)


def opt_text(table: Table, key: str, where: str) -> str | None:
    value = _typed(table, key, str, where, "a non-empty string")
    if value is not None and not value.strip():
        raise PolicyFileError(f"{where}: field '{key}' must be a non-empty string")
    return value


def integer(table: Table, key: str, where: str, *, minimum: int = 1) -> int:
    value = required(_typed(table, key, int, where, "an integer"), key, where)
    if value < minimum:
        raise PolicyFileError(f"{where}: field '{key}' must be >= {minimum}, got {value}")
    return value


def flag(table: Table, key: str, where: str, *, default: bool) -> bool:
    value = _typed(table, key, bool, where, "true or false")
    return default if value is None else value


def day(table: Table, key: str, where: str) -> dt.date | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise PolicyFileError(f"{where}: field '{key}' must be a TOML date (2026-01-31)")
    return value


def texts(table: Table, key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyFileError(f"{where}: field '{key}' must be a list of non-empty strings")
    return tuple(value)


def tables(table: Table, key: str, where: str) -> list[Table]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PolicyFileError(f"{where}: '{key}' must be an array of tables ([[{key}]])")
    return value


def sub_table(table: Table, key: str, where: str) -> Table | None:
    value = table.get(key)
    if value is not None and not isinstance(value, dict):
        raise PolicyFileError(f"{where}: '{key}' must be a table ([{key}])")
    return value


def choice(table: Table, key: str, where: str, allowed: tuple[str, ...]) -> str:
    value = text(table, key, where)
    if value not in allowed:
        raise PolicyFileError(
            f"{where}: field '{key}' must be one of {', '.join(allowed)}; got {value!r}"
        )
    return value


def only(table: Table, keys: set[str], where: str) -> None:
    """Reject unknown fields, so a misspelt key is an error rather than a silent default."""
    unknown = sorted(set(table) - keys)
    if unknown:
        raise PolicyFileError(
            f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(keys))}"
        )
