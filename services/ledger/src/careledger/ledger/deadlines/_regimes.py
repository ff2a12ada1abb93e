"""Load regimes: the TOML files shipped with the package plus an operator's directory.

An operator file with the same ``regime_id`` and a higher ``version`` replaces the shipped
one; two files with the same id and version are an error, never a silent pick.
"""

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import cast

from careledger.ledger.deadlines import _fields as f
from careledger.ledger.deadlines._errors import PolicyFileError
from careledger.ledger.deadlines._policy import (
    CLOCK_STARTS,
    UNITS,
    AppliesIf,
    ClockStart,
    Extension,
    Milestone,
    Regime,
    Unit,
    inconsistencies,
)

ENV_DIR = "CARELEDGER_REGIMES_DIR"
SHIPPED_DIR = Path(__file__).parent / "regimes"
_ID = re.compile(r"^[a-z0-9][a-z0-9_.:-]*\Z")
_TOP = {"regime_id", "version", "title", "effective_from", "effective_to", "applies_if"}
_TOP |= {"clock_start", "calendar", "milestones", "extension", "source", "check", "note"}
_NOTED = {"check", "note"}


def load_regimes(
    directory: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> tuple[Regime, ...]:
    """Shipped regimes, plus those in ``directory`` (else ``$CARELEDGER_REGIMES_DIR``)."""
    env = os.environ if environ is None else environ
    regimes = [parse_regime(p) for p in sorted(SHIPPED_DIR.glob("*.toml"))]
    chosen = directory or (Path(env[ENV_DIR]) if env.get(ENV_DIR) else None)
    if chosen is not None:
        if not chosen.is_dir():
            raise PolicyFileError(f"regimes directory {chosen} does not exist ({ENV_DIR})")
        regimes += [parse_regime(p, origin=str(p)) for p in sorted(chosen.glob("*.toml"))]
    return newest(regimes)


def newest(regimes: Iterable[Regime]) -> tuple[Regime, ...]:
    best: dict[str, Regime] = {}
    for regime in regimes:
        held = best.get(regime.regime_id)
        if held is not None and held.version == regime.version:
            raise PolicyFileError(
                f"regime {regime.regime_id} version {regime.version} is defined twice "
                f"({held.origin}, {regime.origin}); give the operator file a higher version"
            )
        if held is None or regime.version > held.version:
            best[regime.regime_id] = regime
    return tuple(sorted(best.values(), key=lambda r: r.regime_id))


def parse_regime(path: Path, *, origin: str = "shipped") -> Regime:
    table, _ = f.read_toml(path)
    where = str(path)
    f.only(table, _TOP, where)
    regime_id = f.text(table, "regime_id", where)
    if not _ID.match(regime_id):
        raise PolicyFileError(f"{where}: regime_id must be a lowercase code, got {regime_id!r}")
    milestones = tuple(
        _milestone(m, f"{where} milestones[{i}]")
        for i, m in enumerate(f.tables(table, "milestones", where))
    )
    regime = Regime(
        regime_id=regime_id,
        version=f.integer(table, "version", where),
        title=f.text(table, "title", where),
        effective_from=f.required(f.day(table, "effective_from", where), "effective_from", where),
        effective_to=f.day(table, "effective_to", where),
        applies_if=_applies_if(table, where),
        clock_start=cast(ClockStart, f.choice(table, "clock_start", where, CLOCK_STARTS)),
        calendar=f.text(table, "calendar", where),
        milestones=milestones,
        extension=_extension(f.sub_table(table, "extension", where), f"{where} [extension]"),
        source=f.text(table, "source", where),
        check=f.flag(table, "check", where, default=False),
        note=f.opt_text(table, "note", where) or "",
        origin=origin,
    )
    for problem in inconsistencies(regime):
        raise PolicyFileError(f"{where}: {problem}")
    return regime


def _applies_if(regime: f.Table, where: str) -> AppliesIf:
    table = f.required(f.sub_table(regime, "applies_if", where), "applies_if", where)
    where = f"{where} [applies_if]"
    f.only(table, {"jurisdictions", "sectors", "exclude_sectors", "kinds"}, where)
    jurisdictions = f.texts(table, "jurisdictions", where)
    if not jurisdictions:
        raise PolicyFileError(f"{where}: 'jurisdictions' must list at least one (or \"*\")")
    return AppliesIf(
        jurisdictions=jurisdictions,
        sectors=f.texts(table, "sectors", where),
        exclude_sectors=f.texts(table, "exclude_sectors", where),
        kinds=f.texts(table, "kinds", where),
    )


def _milestone(table: f.Table, where: str) -> Milestone:
    f.only(table, {"name", "offset", "unit", "roll_forward"} | _NOTED, where)
    return Milestone(
        name=f.text(table, "name", where),
        offset=f.integer(table, "offset", where),
        unit=cast(Unit, f.choice(table, "unit", where, UNITS)),
        roll_forward=f.flag(table, "roll_forward", where, default=True),
        check=f.flag(table, "check", where, default=False),
        note=f.opt_text(table, "note", where) or "",
    )


def _extension(table: f.Table | None, where: str) -> Extension | None:
    if table is None:
        return None
    f.only(table, {"milestone", "max_offset", "unit", "must_notify_before_due"} | _NOTED, where)
    return Extension(
        milestone=f.text(table, "milestone", where),
        max_offset=f.integer(table, "max_offset", where),
        unit=cast(Unit, f.choice(table, "unit", where, UNITS)),
        must_notify_before_due=f.flag(table, "must_notify_before_due", where, default=True),
        check=f.flag(table, "check", where, default=False),
        note=f.opt_text(table, "note", where) or "",
    )
