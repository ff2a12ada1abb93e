"""Resolve a subject's personal data from the vault, at read time, for an allowed reader.

The registers hold only references (vault key + salted commitment). Which records exist
comes from the events; what they say comes from the vault — or nothing, once erased.
"""

from typing import Any, Protocol

import duckdb

from careledger.contracts import PersonalData, PersonalRef, decode_event


class Vault(Protocol):
    async def reveal(self, subject_id: str, ref: PersonalRef) -> PersonalData: ...


def references(con: duckdb.DuckDBPyConnection, subject_id: str) -> list[tuple[int, str, Any]]:
    """(sequence, event type, PersonalRef) of every event of the subject that has one."""
    rows = con.execute(
        "SELECT sequence, type, payload FROM events WHERE subject_id = ? ORDER BY sequence",
        [subject_id],
    ).fetchall()
    found = []
    for sequence, type_, payload in rows:
        personal = decode_event(bytes(payload)).personal
        if personal is not None:
            found.append((sequence, type_, personal))
    return found


async def reveal(
    vault: Vault,
    subject_id: str,
    refs: list[tuple[int, str, PersonalRef]],
    missing: type[Exception],
) -> list[dict[str, Any]]:
    records = []
    for sequence, type_, ref in refs:
        try:
            data: dict[str, Any] | None = {
                k: v for k, v in _fields(await vault.reveal(subject_id, ref)).items() if v
            }
        except missing:
            data = None  # erased: the reference and its commitment remain, linking nobody
        records.append(
            {"sequence": sequence, "type": type_, "vault_key": ref.vault_key, "personal": data}
        )
    return records


def _fields(data: PersonalData) -> dict[str, Any]:
    return {f: getattr(data, f) for f in data.__struct_fields__}
