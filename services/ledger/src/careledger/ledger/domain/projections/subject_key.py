"""A subject's key: the CRC-32 of its id, kept beside ``subject_id`` in the registers
auditors ask by subject (the timeline, consents).

Subject ids are random, so rows of one subject are spread over the whole table and zone
maps prune nothing: ``subject_id = ?`` compares every row's 36-character string. The key
is 4 bytes, and DuckDB fetches the other columns only for vectors in which it matches; a
query filters on both (the key finds the candidates, ``subject_id`` decides; measured in
docs/performance.md, 'Tried, measured, kept').

CRC-32 is fixed by its standard (zlib's), so a key written by one version is the key the
next one asks for. Never DuckDB's ``hash()``: it may change between versions, and a key
that no longer matches would silently leave rows out of an audit answer.
"""

import zlib

COLUMN = "subject_key"
TYPE = "UINTEGER"


def subject_key(subject_id: str) -> int:
    return zlib.crc32(subject_id.encode())
