"""Data pages: the loads table, a series browser and the upload form.

* ``GET /data``: every load (file, format, rows read / written / rejected, who, when).
* ``GET /data/series?org=&measure=``: stored series, and one series charted with its values.
* ``GET /data/upload`` and ``POST /data/upload``: ingest one file (analysts, footprint admins and
  admins). The flow is ``flowplan ingest``'s: the file is read and validated first
  (:func:`flowplan.data.readers.read`, or the local table reader); any problem is shown as its
  ``FILE:ROW:COLUMN: rule — value`` line and nothing is written; otherwise
  :meth:`flowplan.store.store.Store.ingest` writes it in one transaction (a value contradicting a
  stored one is refused unless "replace" is ticked; "dry run" rolls back). Each attempt is
  written to the web audit log.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from flowplan.data.grain import Grain
from flowplan.data.measures import Aggregation
from flowplan.data.parsed import ParsedFile
from flowplan.data.readers import (
    FORMATS,
    LOCAL_FORMAT,
    LocalTable,
    get_format,
    read,
    read_local_table,
)
from flowplan.errors import DataValidationError, Problem, StoreConflictError, UsageError
from flowplan.store.store import IngestReport
from flowplan.store.users import Account
from flowplan.web import audit, charts
from flowplan.web.deps import Ctx, RequiredUser, can_run_models, require
from flowplan.web.templating import render

router = APIRouter(prefix="/data", include_in_schema=False)

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""Largest file the upload form accepts."""
MAX_PROBLEMS_SHOWN = 500
"""Problem rows shown on the page (the count says how many there were in all)."""
LOADS_SHOWN = 200
SERIES_ROWS_SHOWN = 2000
UPLOAD_ROLE_TEXT = "uploading data needs the analyst or footprint admin role"
_CHUNK = 1024 * 1024
_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,79}$"


# --- helpers -----------------------------------------------------------------------------------


def format_choices() -> list[dict[str, str]]:
    """The formats the upload form offers: every published reader, then the local table."""
    rows = [
        {
            "name": f.name,
            "title": f.title,
            "columns": ", ".join(f.required_columns()),
        }
        for f in FORMATS.values()
    ]
    rows.append(
        {
            "name": LOCAL_FORMAT,
            "title": "Local extract: timestamps or periods with a value, aggregated to a grain",
            "columns": "the time column and value column named below",
        }
    )
    return rows


def safe_name(filename: str | None) -> str:
    """The uploaded file's base name, without folders or odd characters ("upload.csv" if none)."""
    base = PurePath((filename or "").replace("\\", "/")).name
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in base).strip(" .")
    return cleaned[:120] or "upload.csv"


def problem_rows(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as table rows (the first :data:`MAX_PROBLEMS_SHOWN`), each with its CLI line."""
    return [
        {
            "file": p.file,
            "row": p.row,
            "column": p.column,
            "rule": p.rule,
            "value": p.value,
            "line": str(p),
        }
        for p in problems[:MAX_PROBLEMS_SHOWN]
    ]


def report_rows(reports: list[IngestReport]) -> list[dict[str, Any]]:
    """Ingest reports as table rows."""
    return [
        {
            "file": Path(r.file).name,
            "format": r.format,
            "load_id": r.load_id,
            "rows_read": r.rows_read,
            "written": r.written,
            "unchanged": r.unchanged,
            "replaced": r.replaced,
            "rejected": r.rows_rejected,
            "series": r.series,
            "period": (
                f"{charts.day(r.period[0])} to {charts.day(r.period[1])}" if r.period else ""
            ),
            "warnings": list(r.warnings),
        }
        for r in reports
    ]


async def save_upload(upload: UploadFile, folder: Path, name: str) -> Path:
    """Copy the upload to ``folder/name`` in chunks.

    Raises:
        UsageError: the file is empty or larger than :data:`MAX_UPLOAD_BYTES`.
    """
    target = folder / name
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(_CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise UsageError(
                    f"{name}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB; "
                    "load it with `flowplan ingest` instead"
                )
            out.write(chunk)
    if size == 0:
        raise UsageError(f"{name}: the file is empty")
    return target


def _upload_form(
    request: Request,
    values: dict[str, Any],
    *,
    status_code: int = 200,
    error: str | None = None,
    problems: list[Problem] | None = None,
    problem_kind: str = "",
    reports: list[IngestReport] | None = None,
    dry_run: bool = False,
) -> Response:
    return render(
        request,
        "data/upload.html.j2",
        {
            "title": "Upload data",
            "formats": format_choices(),
            "grains": [g.value for g in Grain],
            "aggregations": [a.value for a in Aggregation if a is not Aggregation.LAST],
            "values": values,
            "error": error,
            "problems": problem_rows(problems or []),
            "problem_count": len(problems or []),
            "problem_kind": problem_kind,
            "reports": report_rows(reports or []),
            "dry_run": dry_run,
        },
        status_code=status_code,
    )


def _may_upload(user: Account) -> None:
    require(can_run_models(user), UPLOAD_ROLE_TEXT)


# --- pages -------------------------------------------------------------------------------------


@router.get("")
def loads(request: Request, ctx: Ctx, user: RequiredUser) -> Response:
    """Every load, newest first, with what it read, wrote and rejected."""
    rows = [
        {
            "id": ld["id"],
            "file": Path(str(ld["file_name"])).name,
            "format": ld["format"],
            "sha256": str(ld["sha256"])[:12],
            "rows_read": ld["rows_read"],
            "rows_written": ld["rows_written"],
            "rows_unchanged": ld["rows_unchanged"],
            "rows_replaced": ld["rows_replaced"],
            "rows_rejected": ld["rows_rejected"],
            "who": ld["who"],
            "finished_at": ld["finished_at"],
        }
        for ld in ctx.store.loads(LOADS_SHOWN)
    ]
    return render(
        request,
        "data/loads.html.j2",
        {
            "title": "Data",
            "loads": rows,
            "counts": ctx.store.counts(),
            "can_upload": can_run_models(user),
        },
    )


@router.get("/series")
def series(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    org: Annotated[str | None, Query(pattern=_CODE)] = None,
    measure: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,79}$")] = None,
    breakdown: Annotated[str | None, Query(max_length=120)] = None,
    grain: Grain | None = None,
) -> Response:
    """Stored series (filtered by organisation and measure); one series charted when chosen."""
    org = org or None
    listed = ctx.store.series_list(org, measure or None)
    context: dict[str, Any] = {
        "title": "Stored series",
        "org": org or "",
        "measure": measure or "",
        "breakdown": breakdown or "",
        "grain": grain.value if grain else "",
        "grains": [g.value for g in Grain],
        "series": [
            {
                "org": s.org_code,
                "measure": s.measure,
                "breakdown": s.breakdown,
                "grain": s.grain,
                "count": s.count,
                "first": s.first.date(),
                "last": s.last.date(),
            }
            for s in listed
        ],
        "orgs": sorted({o["code"] for o in ctx.store.organisations() if o["series"]}),
        "measures": sorted({s.measure for s in ctx.store.series_list(org)}) if org else [],
        "chosen": None,
        "message": None,
    }
    if org and measure:
        breakdowns = sorted({s.breakdown for s in listed})
        wanted = breakdown or ("all" if "all" in breakdowns else None)
        if not breakdowns:
            context["message"] = (
                f"no stored series for {org}: {measure} — load it on the upload page"
            )
        elif wanted is None and len(breakdowns) > 1:
            context["message"] = (
                f"{org} {measure} has {len(breakdowns)} breakdowns; choose one from the table"
            )
        else:
            try:
                frame, used, got_bd = ctx.store.read_series(org, measure, wanted, grain)
            except UsageError as exc:
                context["message"] = str(exc)
            else:
                context["chosen"] = _chosen(org, measure, frame, used, got_bd)
    return render(request, "data/series.html.j2", context)


def _chosen(
    org: str, measure: str, frame: pd.DataFrame, used: Grain, breakdown: str
) -> dict[str, Any]:
    title = f"{org} {measure} [{breakdown}] by {used.value}"
    figure = charts.line_figure(
        list(frame["period_start"]),
        [charts.Line(measure, list(frame["value"]))],
        title=title,
        y_title=measure,
    )
    shown = frame.tail(SERIES_ROWS_SHOWN)
    return {
        "title": title,
        "breakdown": breakdown,
        "grain": used.value,
        "figure": charts.to_json(figure),
        "points": len(frame),
        "rows": [
            {"period": charts.day(p), "value": charts.number(v)}
            for p, v in zip(shown["period_start"], shown["value"], strict=True)
        ][::-1],
    }


@router.get("/upload")
def upload_form(request: Request, user: RequiredUser) -> Response:
    """The upload form: a format, a file, and the local table's settings."""
    _may_upload(user)
    return _upload_form(request, {"format": "", "grain": "day", "agg": "sum"})


@router.post("/upload")
async def upload(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form(max_length=80)],
    dry_run: Annotated[bool, Form()] = False,
    replace: Annotated[bool, Form()] = False,
    org: Annotated[str, Form(max_length=80)] = "",
    measure: Annotated[str, Form(max_length=80)] = "",
    time_col: Annotated[str, Form(max_length=200)] = "",
    value_col: Annotated[str, Form(max_length=200)] = "",
    count_rows: Annotated[bool, Form()] = False,
    grain: Annotated[str, Form(max_length=20)] = "day",
    agg: Annotated[str, Form(max_length=20)] = "sum",
    time_format: Annotated[str, Form(max_length=80)] = "",
    breakdown: Annotated[str, Form(max_length=80)] = "all",
) -> Response:
    """Validate the file, then write it in one transaction; problems shown per row, nothing
    written on any problem."""
    _may_upload(user)
    name = safe_name(file.filename)
    values = {
        "format": format,
        "dry_run": dry_run,
        "replace": replace,
        "org": org,
        "measure": measure,
        "time_col": time_col,
        "value_col": value_col,
        "count_rows": count_rows,
        "grain": grain,
        "agg": agg,
        "time_format": time_format,
        "breakdown": breakdown,
    }
    detail: dict[str, Any] = {"format": format, "file": name, "dry_run": dry_run}

    def refused(message: str, problems: list[Problem] | None = None, kind: str = "") -> Response:
        audit.record(
            request,
            user.username,
            "data.upload.refused",
            name,
            {**detail, "problems": len(problems or []), "message": message[:500]},
        )
        return _upload_form(
            request,
            values,
            status_code=422,
            error=message,
            problems=problems,
            problem_kind=kind,
        )

    spec: LocalTable | None = None
    try:
        if format == LOCAL_FORMAT:
            if not (org.strip() and measure.strip() and time_col.strip()):
                raise UsageError("table: organisation, measure and time column are required")
            spec = LocalTable(
                org=org.strip(),
                measure=measure.strip(),
                time_column=time_col.strip(),
                value_column=value_col.strip() or None,
                count_rows=count_rows,
                grain=Grain(grain),
                agg=Aggregation(agg),
                time_format=time_format.strip() or None,
                breakdown=breakdown.strip() or "all",
            )
            spec.check()
        else:
            get_format(format)
    except ValueError as exc:
        return refused(f"table: {exc}")
    except UsageError as exc:
        return refused(str(exc))

    with tempfile.TemporaryDirectory(prefix="flowplan-upload-") as folder:
        try:
            path = await save_upload(file, Path(folder), name)
            parsed: ParsedFile = (
                read_local_table(spec, path, name) if spec is not None else read(format, path, name)
            )
        except DataValidationError as exc:
            return refused(
                f"{name}: {len(exc.problems)} problem(s); nothing was written",
                exc.problems,
                "validation",
            )
        except UsageError as exc:
            return refused(str(exc))
    try:
        reports = ctx.store.ingest([parsed], replace=replace, dry_run=dry_run, who=user.username)
    except StoreConflictError as exc:
        return refused(
            f"{name}: {len(exc.problems)} value(s) contradict stored values; nothing was written "
            "(tick “replace” to overwrite them)",
            exc.problems,
            "conflict",
        )
    report = reports[0]
    audit.record(
        request,
        user.username,
        "data.upload.dry_run" if dry_run else "data.upload",
        name,
        {
            **detail,
            "load_id": report.load_id,
            "rows_read": report.rows_read,
            "written": report.written,
            "replaced": report.replaced,
            "rejected": report.rows_rejected,
        },
    )
    return _upload_form(
        request,
        {"format": format, "grain": grain, "agg": agg},
        reports=reports,
        dry_run=dry_run,
    )
