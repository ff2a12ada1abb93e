"""Deadlines owed to external bodies (``bodies.toml``): months after the final response.

Each rule maps (jurisdiction prefix, escalation level) to the months after the company's
final response within which the complainant may take the complaint to that body, or to a
note saying that no deadline is known. ``$CARELEDGER_BODY_DEADLINES`` names a file that
replaces the shipped one.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from careledger.contracts.vocabulary import ESCALATION_ORDER, INTERNAL_LEVELS
from careledger.ledger.deadlines import _fields as f
from careledger.ledger.deadlines._errors import PolicyFileError

ENV_FILE = "CARELEDGER_BODY_DEADLINES"
SHIPPED_FILE = Path(__file__).parent / "bodies.toml"
EXTERNAL_LEVELS = tuple(level for level in ESCALATION_ORDER if level not in INTERNAL_LEVELS)
_JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?\Z")
_FIELDS = {"jurisdiction", "to_level", "body", "months_after_final_response", "timezone"}
_FIELDS |= {"source", "note"}


@dataclass(frozen=True, kw_only=True)
class BodyRule:
    jurisdiction: str  # ISO 3166 prefix: "GB" matches "GB-SCT"
    to_level: str  # an external escalation level
    body: str
    months: int | None  # None: no deadline known (``note`` says so)
    timezone: str  # the final response's local date is counted in this zone
    source: str
    note: str = ""


def load_body_rules(
    path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> tuple[BodyRule, ...]:
    """The rules in ``path``, else ``$CARELEDGER_BODY_DEADLINES``, else the shipped file."""
    env = os.environ if environ is None else environ
    chosen = path or (Path(env[ENV_FILE]) if env.get(ENV_FILE) else SHIPPED_FILE)
    if not chosen.is_file():
        raise PolicyFileError(f"body deadlines file {chosen} does not exist ({ENV_FILE})")
    table, _ = f.read_toml(chosen)
    f.only(table, {"bodies"}, str(chosen))
    rules = [
        _rule(entry, f"{chosen} bodies[{i}]")
        for i, entry in enumerate(f.tables(table, "bodies", str(chosen)))
    ]
    seen: set[tuple[str, str]] = set()
    for rule in rules:
        if (rule.jurisdiction, rule.to_level) in seen:
            raise PolicyFileError(
                f"{chosen}: ({rule.jurisdiction}, {rule.to_level}) is defined twice; keep one"
            )
        seen.add((rule.jurisdiction, rule.to_level))
    return tuple(rules)


def _rule(table: f.Table, where: str) -> BodyRule:
    f.only(table, _FIELDS, where)
    jurisdiction = f.text(table, "jurisdiction", where)
    if not _JURISDICTION.match(jurisdiction):
        raise PolicyFileError(f"{where}: jurisdiction must look like 'GB' or 'ES-MD'")
    to_level = f.choice(table, "to_level", where, EXTERNAL_LEVELS)
    months = (
        f.integer(table, "months_after_final_response", where)
        if "months_after_final_response" in table
        else None
    )
    note = f.opt_text(table, "note", where) or ""
    if months is None and not note:
        raise PolicyFileError(f"{where}: without months_after_final_response, say why in 'note'")
    timezone = f.text(table, "timezone", where)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyFileError(f"{where}: unknown timezone {timezone!r}") from exc
    return BodyRule(
        jurisdiction=jurisdiction,
        to_level=to_level,
        body=f.text(table, "body", where),
        months=months,
        timezone=timezone,
        source=f.text(table, "source", where),
        note=note,
    )
