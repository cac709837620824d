"""The one table reader, for training sources and for indexing: CSV, TSV, JSON, JSON lines, Parquet.

The format is read from the suffix before any compression suffix (`captions.tsv.gz`,
`rows.jsonl.zst`); pandas decompresses whatever it knows by the last suffix (.gz, .bz2, .zip,
.xz, .zst, .tar...). Text columns stay text: CSV/TSV cells are read as strings, empty cells
as "" (never NaN), so a caption "NA" or "null" is a caption.
"""

from __future__ import annotations

import csv
from pathlib import Path

from engine.errors import EngineError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def table_format(path: Path) -> str | None:
    """ "csv", "tsv", "json", "jsonl", "parquet" from the last known suffix, or None."""
    return next((FORMATS[s] for s in reversed([s.lower() for s in path.suffixes]) if s in FORMATS), None)


def read_table(path: str | Path, what: str = "table"):
    """A pandas DataFrame of the table at `path`; a clear EngineError for an unknown, missing or unreadable file.

    `.json` holds either an array of row objects or one object per line (both are common).
    """
    import pandas as pd

    path = Path(path)
    kind = table_format(path)
    if kind is None:
        raise EngineError(f"{what} {path}: unknown table type; use .csv, .tsv, .json, .jsonl/.ndjson or .parquet (optionally compressed, e.g. .tsv.gz)")
    if not path.is_file():
        raise EngineError(f"{what} {path}: no such file")
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        if kind == "jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        if kind == "json":
            try:
                return pd.read_json(path, dtype=False)
            except ValueError:  # one object per line under a .json name
                return pd.read_json(path, lines=True, dtype=False)
        return pd.read_csv(
            path, sep="\t" if kind == "tsv" else ",", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE if kind == "tsv" else csv.QUOTE_MINIMAL
        )
    except (ValueError, OSError, EOFError) as error:
        raise EngineError(f"{what} {path}: cannot read it as {kind}: {error}") from None
