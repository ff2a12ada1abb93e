"""Rows and columns as Arrow tables of a projection table's types: how the ledger hands
a batch's rows to DuckDB in one columnar INSERT."""

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from careledger.ledger.domain.rows import Row, Table

ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "VARCHAR[]": pa.list_(pa.string()),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "UINTEGER": pa.uint32(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "DECIMAL(18,4)": pa.decimal128(18, 4),
    "DECIMAL(38,4)": pa.decimal128(38, 4),
}


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([(n, ARROW_TYPES[t]) for n, t in table.columns.items()])


def columns(rows: Sequence[Row], schema: pa.Schema) -> pa.Table:
    """Rows (dicts) as an Arrow table, built column by column. (The names are read once:
    ``Field.name`` builds a new string each time.)"""
    return pa.Table.from_arrays(
        [
            pa.array([row[name] for row in rows], type=t)
            for name, t in zip(schema.names, schema.types, strict=True)
        ],
        schema=schema,
    )


def column_table(values: dict[str, list[Any]], table: Table) -> pa.Table:
    """Columns (name -> values) as an Arrow table of ``table``'s columns, in its order."""
    if values.keys() != table.columns.keys():
        raise ValueError(f"{table.name}: columns {sorted(values)} are not {sorted(table.columns)}")
    schema = arrow_schema(table)
    arrays = [pa.array(values[n], type=t) for n, t in zip(schema.names, schema.types, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)
