"""The dashboard's tables as files to hand over: CSV and JSON, same period as the page.

Every export is built from the same rows as the page (mailbot.figures,
mailbot.figure_tables): references, dates, statuses, counts and reasons, never a
requester, an address or a letter. A CSV cell that a spreadsheet would read as a
formula (it starts with =, +, -, @, a tab or a carriage return) is prefixed with '.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from fastapi.responses import Response

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """A cell as a spreadsheet will not execute it; numbers and empty cells unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def csv_text(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralised(row.get(name)) for name in columns])
    return out.getvalue()


def file_response(
    name: str,
    form: str,
    first_day: date,
    last_day: date,
    rows: Sequence[Mapping[str, object]],
    columns: Sequence[str],
) -> Response:
    filename = f"{name}-{first_day.isoformat()}-{last_day.isoformat()}.{form}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if form == "csv":
        return Response(
            csv_text(rows, columns), media_type="text/csv; charset=utf-8", headers=headers
        )
    period = {"first_day": first_day.isoformat(), "last_day": last_day.isoformat()}
    body = json.dumps({"period": period, name: list(rows)}, ensure_ascii=False, indent=1)
    return Response(body, media_type="application/json", headers=headers)
