"""Reads a research export with pyarrow, as a researcher would, and checks that every Parquet
file holds the same columns and rows as its CSV twin, with integer columns as int64 and real
columns as double. Run by tests/research_export.rs: research_export_check.py CSV_DIR PARQUET_DIR.
"""

import csv
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TABLES = ["long", "wide", "states", "time_to_event", "cohort"]


def main(csv_dir: Path, parquet_dir: Path) -> None:
    codebook = {}
    with open(csv_dir / "codebook.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            codebook[(row["file"], row["column"])] = row["type"]
    for name in TABLES:
        table = pq.read_table(parquet_dir / f"{name}.parquet")
        with open(csv_dir / f"{name}.csv", newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            rows = list(reader)
        assert table.column_names == header, (name, table.column_names, header)
        assert table.num_rows == len(rows), (name, table.num_rows, len(rows))
        expected_type = {"text": pa.string(), "integer": pa.int64(), "real": pa.float64()}
        for field in table.schema:
            kind = codebook[(name, field.name)]
            assert field.type == expected_type[kind], (name, field.name, field.type, kind)
        for i, record in enumerate(table.to_pylist()):
            for column, cell in zip(header, rows[i]):
                value = record[column]
                if value is None:
                    assert cell == "", (name, i, column, cell)
                elif isinstance(value, float):
                    assert float(cell) == value, (name, i, column, cell, value)
                else:
                    assert str(value) == cell, (name, i, column, cell, value)
        print(f"{name}: {table.num_rows} rows, {table.num_columns} columns read by pyarrow {pa.__version__}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
