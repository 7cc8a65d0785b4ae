"""Reading and writing FAQ tables: CSV (UTF-8, with or without BOM), XLSX (openpyxl), JSONL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from fallback.faq.rows import COLUMNS, FaqFormatError, header

FORMATS = ("csv", "xlsx", "jsonl")


def format_of(path: Path, explicit: str | None = None) -> str:
    """The table format from ``explicit`` or the file's suffix."""
    fmt = (explicit or path.suffix.lstrip(".")).lower()
    if fmt == "json":
        fmt = "jsonl"
    if fmt not in FORMATS:
        raise FaqFormatError(f"{path}: unknown format {fmt!r}; use one of {list(FORMATS)} (or --format)")
    return fmt


def read_table(path: Path, fmt: str | None = None) -> list[tuple[int, dict[str, Any]]]:
    """``(line, {column: value})`` for every data row of ``path``."""
    if not path.is_file():
        raise FaqFormatError(f"{path}: no such file")
    kind = format_of(path, fmt)
    if kind == "csv":
        return list(_csv(path.read_bytes()))
    if kind == "xlsx":
        return list(_xlsx(path))
    return list(_jsonl(path))


def _csv(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FaqFormatError("the CSV is not UTF-8 (save it as 'CSV UTF-8' in Excel)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    first = next(reader, None)
    if first is None:
        raise FaqFormatError("the file is empty")
    names = header(first)
    for values in reader:
        yield reader.line_num, dict(zip(names, values, strict=False))


def _xlsx(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several kinds for a file that is not a workbook
        raise FaqFormatError(f"{path}: not an .xlsx workbook ({type(e).__name__})") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            raise FaqFormatError("the first sheet is empty")
        names = header(first)
        for i, values in enumerate(rows, start=2):
            yield i, dict(zip(names, values, strict=False))
    finally:
        book.close()


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise FaqFormatError(f"line {i}: not JSON ({e.msg})") from None
            if not isinstance(rec, dict):
                raise FaqFormatError(f"line {i}: a JSON object is needed")
            names = header(rec.keys())
            yield i, dict(zip(names, rec.values(), strict=True))


def write_table(path: Path, records: Sequence[Mapping[str, Any]], fmt: str | None = None) -> int:
    """Write ``records`` (the columns of :data:`~fallback.faq.rows.COLUMNS` plus extras); returns rows."""
    kind = format_of(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(COLUMNS) + sorted({k for r in records for k in r} - set(COLUMNS))
    if kind == "jsonl":
        with path.open("w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps({c: r.get(c) for c in columns}, ensure_ascii=False, default=str) + "\n")
        return len(records)
    table = [[_cell(r.get(c)) for c in columns] for r in records]
    if kind == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as f:  # the BOM makes Excel read UTF-8
            w = csv.writer(f)
            w.writerow(columns)
            w.writerows(table)
        return len(records)
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("answers")
    sheet.append(columns)
    for row in table:
        sheet.append(row)
    book.save(path)
    return len(records)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value
