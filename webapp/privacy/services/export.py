"""A member's data, gathered from every domain's exporter, written as one JSON document or a ZIP of CSV files."""
from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.privacy.exporters import registered
from webapp.privacy.registry import Row
from webapp.spreadsheet import FORMULA_STARTS, neutralize  # noqa: F401  (re-exported)

FORMAT = "harambee-member-data/1"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class MemberData:
    member_id: int
    generated_at: datetime
    #: record kind → rows, in the order the exporters gave them
    records: dict[str, list[Row]]


def gather(user: User) -> MemberData:
    """Ask every registered exporter for its records about this member, and only this member."""
    records: dict[str, list[Row]] = {}
    for _domain, export in registered():
        for kind, rows in export(user).items():
            records.setdefault(kind, []).extend(rows)
    return MemberData(member_id=user.id, generated_at=utcnow(), records=records)


def json_chunks(data: MemberData) -> Iterator[str]:
    """The JSON document, one record kind at a time."""
    yield "{" + f'"format": {json.dumps(FORMAT)}, "generated_at": {json.dumps(data.generated_at.isoformat())}, '
    yield f'"member_id": {data.member_id}, "records": {{'
    for i, (kind, rows) in enumerate(data.records.items()):
        yield ("" if i == 0 else ", ") + json.dumps(kind) + ": " + json.dumps(rows, ensure_ascii=False, indent=1)
    yield "}}\n"


def to_json(data: MemberData) -> str:
    return "".join(json_chunks(data))


def csv_of(rows: list[Row]) -> str:
    out = io.StringIO()
    columns: list[str] = []
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    writer = csv.DictWriter(out, fieldnames=columns or ["none"], lineterminator="\r\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: "" if v is None else neutralize(v) for k, v in r.items()})
    return out.getvalue()


def zip_chunks(data: MemberData) -> Iterator[bytes]:
    """A ZIP with one CSV file per record kind (empty kinds included, with their header only)."""
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for kind, rows in data.records.items():
                # utf-8-sig: spreadsheets open accented names right
                archive.writestr(f"{kind}.csv", csv_of(rows).encode("utf-8-sig"))
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk


def to_zip(data: MemberData) -> bytes:
    return b"".join(zip_chunks(data))
