"""Writers for exports: JSON lines, CSV and Parquet, each streaming batch by batch.

Memory does not depend on the number of rows: records are written as they come
(Parquet in row groups of ``PARQUET_BATCH``).  Parquet needs ``pyarrow`` (the
``parquet`` extra); without it the writer says how to install it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigError
from .fields import FIELDS, INT_FIELDS, LIST_FIELDS, OBJECT_FIELDS

FORMATS = ("jsonl", "csv", "parquet")
PARQUET_BATCH = 1000


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> Iterator[dict[str, Any]]:
    """Write each record as one JSON line; yield it once written."""
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        yield record


def write_csv(records: Iterable[dict[str, Any]], out: IO[str]) -> Iterator[dict[str, Any]]:
    """Write a header and one row per record (lists and objects as JSON text)."""
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for record in records:
        writer.writerow(
            {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
             for k, v in record.items()}
        )  # fmt: skip
        yield record


def write_parquet(records: Iterable[dict[str, Any]], path: Path) -> Iterator[dict[str, Any]]:
    """Write a Parquet file in row groups; yield each record once its group is written."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(
            "Parquet export needs pyarrow: pip install 'newsscraper[parquet]'", key="--format"
        ) from None
    schema = pa.schema(
        [
            (name, pa.list_(pa.string()) if name in LIST_FIELDS
             else pa.int64() if name in INT_FIELDS
             else pa.bool_() if name == "representative" else pa.string())
            for name in FIELDS
        ]
    )  # fmt: skip
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(str(path), schema) as writer:
        for record in records:
            batch.append(
                {k: json.dumps(v, ensure_ascii=False) if k in OBJECT_FIELDS else v
                 for k, v in record.items()}
            )  # fmt: skip
            if len(batch) >= PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                yield from batch
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            yield from batch
