"""The audit log page (admins and the Office see it): filters by person, unit, procedure, action and period,
pages by key (older entries after the last one shown), and a CSV export of the filtered rows. Its JSON API
twin is web/api/admin_audit.py; both read through engine/read/audit_queries.py."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context

from engine.core import i18n
from engine.core.errors import InvalidInput
from engine.read import audit_queries
from engine.read.audit_queries import AuditFilter, AuditRow
from engine.regulation import access
from engine.worktime.calendar import TZ

from .errors import status_of
from .i18n import current_language, error_text, parse_date, translate
from .security import allowed_if

bp = Blueprint("admin_audit", __name__)
CSV_COLUMNS = ("id", "at", "actor", "actor_name", "actor_unit", "action", "action_label", "process_id",
               "process_name", "instance_id", "task_id", "bpmn_id", "summary")


def _ctx():
    return current_app.extensions["engine"]


def filter_from(args) -> AuditFilter:
    """The filter a query string asks for (actor, unit, process, action, from, to); InvalidInput if it does not fit.
    Days are typed dd/mm/yyyy (yyyy-mm-dd too, for API clients and older links); a wrong one names its field."""
    days = [parse_date(args[name], translate(f"admin_audit.{name}")).isoformat() if (args.get(name) or "").strip()
            else None for name in ("from", "to")]
    return audit_queries.make_filter(args.get("actor"), args.get("unit"), args.get("process"), args.get("action"),
                                     *days)


def action_label(code: str, lang: str) -> str:
    """An action's name from the catalog ("audit_action.<code>"); the code itself when it has none."""
    key = f"audit_action.{code}"
    return i18n.text(key, lang) if i18n.has(key) else code


def action_choices(lang: str) -> list[tuple[str, str]]:
    """Every action the catalog names, by name."""
    codes = [key.split(".", 1)[1] for key in i18n.catalog() if key.startswith("audit_action.")]
    return sorted(((code, action_label(code, lang)) for code in codes), key=lambda item: item[1])


@bp.get("/admin/audit")
@allowed_if(access.may_see_administration)
def index():
    """A page of entries, newest first, with the filters and the link to the next (older) page."""
    args, lang = request.args, current_language()
    error, page = None, audit_queries.AuditPage([], None)
    try:
        wanted = filter_from(args)
        page = audit_queries.search(_ctx(), wanted, args.get("after") or None)
    except InvalidInput as failure:
        error = error_text(failure)
    kept = {k: v for k, v in args.items() if k in ("actor", "unit", "process", "action", "from", "to") and v}
    page_html = render_template("admin_audit.html", page=page, choices=audit_queries.choices(_ctx()),
                                actions=action_choices(lang), label=lambda code: action_label(code, lang),
                                args=args, kept=kept, error=error, deep=bool(args.get("after")),
                                export_max=audit_queries.EXPORT_LIMIT, summary=_summary)
    return page_html, (422 if error else 200)


@bp.get("/admin/audit.csv")
@allowed_if(access.may_see_administration)
def export():
    """Every filtered entry as CSV, streamed (refused up front when more than the export limit match)."""
    try:
        rows = audit_queries.export(_ctx(), filter_from(request.args))
    except InvalidInput as failure:
        return render_template("error.html", code=failure.code, message=error_text(failure)), status_of(failure)
    return csv_response(rows, current_language())


def csv_response(rows: Iterable[AuditRow], lang: str) -> Response:
    """A streamed CSV download of audit rows: UTF-8 with a byte-order mark (spreadsheets read the accents),
    times in Vietnam's zone, actions with their names."""
    return Response(stream_with_context(_csv_lines(rows, lang)), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-log.csv",
                             "Cache-Control": "no-store"})


def _csv_lines(rows: Iterable[AuditRow], lang: str) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + _take(buffer)
    for n, row in enumerate(rows, 1):
        writer.writerow([row.id, row.at.astimezone(TZ).isoformat(), _cell(row.actor), _cell(row.actor_name),
                         _cell(row.actor_unit), row.action, action_label(row.action, lang), row.process_id or "",
                         _cell(row.process_name), row.instance_id or "", row.task_id or "", row.bpmn_id or "",
                         _cell(json.dumps(row.summary, ensure_ascii=False, sort_keys=True))])
        if n % 200 == 0:
            yield _take(buffer)
    yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value) -> str:
    # A cell starting with = + - @ would be a formula in a spreadsheet: the log holds what users typed.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _summary(row: AuditRow) -> str:
    text = json.dumps(row.summary, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 300 else text[:300] + "…"
