"""The data contract: one declarative `Table` per dataset.

Every other shape of a table is generated from it: the pyarrow schema (`Table.arrow_schema`), the
SQLAlchemy table (`Table.sqlalchemy`), the pandas conformance step (`Table.conform`) and the Great
Expectations suite (`schemas.expectations.build_suite`). No column list is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

Kind = Literal["text", "code", "int16", "int32", "int64", "float", "money", "bool", "date", "timestamp"]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "code": pa.string(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float": pa.float64(),
    "money": pa.decimal128(18, 2),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}

_PANDAS_DTYPES: dict[str, str] = {
    "text": "string",
    "code": "string",
    "int16": "Int16",
    "int32": "Int32",
    "int64": "Int64",
    "float": "Float64",
    "money": "Float64",  # exact decimal only at the storage boundary (Parquet decimal128, SQL NUMERIC)
    "bool": "boolean",
}


def _sql_type(kind: str, max_length: int | None) -> sa.types.TypeEngine:
    return {
        "text": sa.Text() if max_length is None else sa.String(max_length),
        "code": sa.String(max_length or 40),
        "int16": sa.SmallInteger(),
        "int32": sa.Integer(),
        "int64": sa.BigInteger(),
        "float": sa.Float(),
        "money": sa.Numeric(18, 2),
        "bool": sa.Boolean(),
        "date": sa.Date(),
        "timestamp": sa.DateTime(timezone=True),
    }[kind]


@dataclass(frozen=True)
class Column:
    """One column of the contract and the rules every row must meet."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    values: tuple[str, ...] | None = None
    pattern: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    personal: bool = False  # personal data of a proposer: never leaves the warehouse in an extract

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.kind]


@cache
def _empty_of(table: Table) -> pd.DataFrame:
    return table.conform(pd.DataFrame(columns=table.column_names))


@dataclass(frozen=True)
class Table:
    """A dataset of the pipeline: its columns, key and where it is partitioned."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    partition_by: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = field(default=())

    def __post_init__(self) -> None:
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column names")
        missing = [c for c in self.primary_key + self.partition_by if c not in names]
        if missing:
            raise ValueError(f"{self.name}: key columns not in the table: {missing}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required or c.name in self.primary_key]

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.personal]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    # --- generated shapes -------------------------------------------------------------------
    @property
    def arrow_schema(self) -> pa.Schema:
        fields = [
            pa.field(
                c.name,
                c.arrow_type,
                nullable=not (c.required or c.name in self.primary_key),
                metadata={"description": c.description, "personal": str(c.personal).lower()},
            )
            for c in self.columns
        ]
        return pa.schema(fields, metadata={"table": self.name, "description": self.description})

    def sqlalchemy(self, metadata: sa.MetaData) -> sa.Table:
        """The warehouse table (created once per MetaData)."""
        if self.name in metadata.tables:
            return metadata.tables[self.name]
        cols = [
            sa.Column(
                c.name,
                _sql_type(c.kind, c.max_length),
                primary_key=c.name in self.primary_key,
                nullable=not (c.required or c.name in self.primary_key),
                comment=c.description + (" [data pribadi / personal data]" if c.personal else ""),
            )
            for c in self.columns
        ]
        table = sa.Table(self.name, metadata, *cols, comment=self.description)
        for idx_cols in self.indexes:
            sa.Index(f"ix_{self.name}_{'_'.join(idx_cols)}", *[table.c[n] for n in idx_cols])
        return table

    # --- conformance --------------------------------------------------------------------------
    def empty_frame(self) -> pd.DataFrame:
        """A new frame of no rows with the contract's columns and dtypes (a copy of one made once: conforming
        takes about 10 ms, and routing and staging ask for one per pemda or slice)."""
        return _empty_of(self).copy()

    def conform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return `df` with exactly the contract's columns, in order, in the contract's dtypes.

        Missing optional columns are added empty; extra columns are dropped. Values must already be
        parsed (text to numbers is the extract step's job); a value that cannot be cast raises.
        """
        out = {}
        n = len(df)
        for c in self.columns:
            s = df[c.name] if c.name in df.columns else pd.Series([None] * n, index=df.index)
            if c.kind == "date":
                s = pd.to_datetime(s, errors="coerce").dt.date
            elif c.kind == "timestamp":
                s = pd.to_datetime(s, errors="coerce", utc=True)
            else:
                s = s.astype(_PANDAS_DTYPES[c.kind])
            if c.kind == "money":
                s = s.round(2)
            out[c.name] = s
        return pd.DataFrame(out, index=df.index)

    def to_arrow(self, df: pd.DataFrame) -> pa.Table:
        """Conformed frame to an Arrow table in the contract's schema (money becomes decimal128)."""
        df = self.conform(df)
        arrays = []
        for c in self.columns:
            s = df[c.name]
            if c.kind == "money":
                arr = pc.cast(pa.array(s, type=pa.float64(), from_pandas=True), c.arrow_type, safe=False)
            elif c.kind == "date":
                arr = pa.array(s.to_numpy(dtype=object), type=c.arrow_type, from_pandas=True)
            else:
                arr = pa.array(s, type=c.arrow_type, from_pandas=True)
            arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema)
