"""The periodic report and the overdue list as XLSX files, in the layout an Office files (Decree 30/2020 style).

Each sheet has the issuing body and the national motto side by side, the title, the unit and the period,
the table (header, one line per unit or task, the totals) and the signature block, set to print on A4
landscape, one page wide. Words come from the catalog in the reader's language; dates are dd/mm/yyyy.
"""
from __future__ import annotations

import io
from datetime import date

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from engine.core import i18n
from engine.read.overdue_list import OverdueList
from engine.read.period_reports import COLUMNS, PeriodReport
from engine.worktime.periods import period_from_key

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP = Alignment(vertical="top", wrap_text=True)
_BOLD = Font(name="Times New Roman", bold=True, size=12)
_PLAIN = Font(name="Times New Roman", size=12)


def period_report_xlsx(report: PeriodReport, lang: str, today: date) -> bytes:
    """The periodic report as an XLSX file's bytes, made on `today` (its signature line)."""
    t = _texts(lang)
    head = [t("xlsx_no"), t("unit"), *[t(f"report_col.{name}") for name in COLUMNS], t("report_col.on_time_rate")]
    book, sheet = _sheet(t("report_sheet"))
    issuer = report.unit_name or t("report_province_issuer")
    row = _letterhead(sheet, len(head), issuer.upper(), t)
    row = _title(sheet, row, len(head), t("report_title"),
                 [report.unit_name or t("report_province"),
                  t("report_period_line", period=_period_caption(report.period_key, lang),
                    start=f"{report.data_from:%d/%m/%Y}", end=f"{report.data_to:%d/%m/%Y}")])
    _row(sheet, row, head, header=True)
    for n, unit in enumerate(report.rows, 1):
        row += 1
        _row(sheet, row, [n, "   " * unit.depth + unit.name, *[unit.figures[c] for c in COLUMNS],
                          _rate(unit.figures["on_time_rate"])])
    row += 1
    _row(sheet, row, ["", t("report_total"), *[report.totals[c] for c in COLUMNS],
                      _rate(report.totals["on_time_rate"])], bold=True)
    _widths(sheet, [6, 42] + [12] * (len(head) - 2))
    _signatures(sheet, row + 2, len(head), today, t)
    return _bytes(book)


def overdue_xlsx(listing: OverdueList, lang: str) -> bytes:
    """The overdue list as an XLSX file's bytes."""
    t = _texts(lang)
    head = [t("xlsx_no"), t("overdue_col.content"), t("overdue_col.document"), t("overdue_col.deadline"),
            t("overdue_col.days"), t("overdue_col.lead_unit"), t("overdue_col.urges")]
    book, sheet = _sheet(t("overdue_sheet"))
    row = _letterhead(sheet, len(head), (listing.unit_name or t("report_province_issuer")).upper(), t)
    row = _title(sheet, row, len(head), t("overdue_title"),
                 [listing.unit_name or t("report_province"), t("overdue_as_of", day=f"{listing.today:%d/%m/%Y}")])
    _row(sheet, row, head, header=True)
    for n, item in enumerate(listing.items, 1):
        row += 1
        _row(sheet, row, [n, item.content, t("overdue_document", number=item.document_number,
                                             day=f"{item.document_issued_on:%d/%m/%Y}"),
                          f"{item.deadline:%d/%m/%Y}", item.days_overdue, item.lead_unit_name, item.urge_count])
    if listing.cut:
        row += 1
        sheet.cell(row=row, column=2, value=t("overdue_cut", n=len(listing.items))).font = _PLAIN
    _widths(sheet, [6, 50, 26, 13, 12, 32, 11])
    _signatures(sheet, row + 2, len(head), listing.today, t)
    return _bytes(book)


def download(content: bytes, filename: str) -> Response:
    """An XLSX file as a download."""
    return Response(content, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={filename}",
                                                     "Cache-Control": "no-store"})


def _texts(lang: str):
    return lambda key, **params: i18n.text(key, lang, **params)


def _period_caption(key: str, lang: str) -> str:
    return period_from_key(key).caption.text(lang)


def _sheet(title: str):
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    return book, sheet


def _letterhead(sheet, width: int, issuer: str, t) -> int:
    # Left: the issuing body; right: the national name and motto (Decree 30/2020, Appendix I).
    half = max(2, width // 2)
    _merged(sheet, 1, 1, half, issuer, _BOLD)
    _merged(sheet, 1, half + 1, width, t("xlsx_nation"), _BOLD)
    _merged(sheet, 2, half + 1, width, t("xlsx_motto"), _BOLD)
    return 4


def _title(sheet, row: int, width: int, title: str, lines: list[str]) -> int:
    _merged(sheet, row, 1, width, title.upper(), Font(name="Times New Roman", bold=True, size=14))
    for line in lines:
        row += 1
        _merged(sheet, row, 1, width, line, _BOLD)
    return row + 2


def _signatures(sheet, row: int, width: int, day: date, t) -> None:
    half = max(2, width // 2)
    _merged(sheet, row, half + 1, width, t("xlsx_place_date", d=f"{day:%d}", m=f"{day:%m}", y=day.year),
            Font(name="Times New Roman", italic=True, size=12))
    _merged(sheet, row + 1, 1, half, t("xlsx_prepared_by"), _BOLD)
    _merged(sheet, row + 1, half + 1, width, t("xlsx_head_of_unit"), _BOLD)
    _merged(sheet, row + 2, 1, half, t("xlsx_sign_hint"), Font(name="Times New Roman", italic=True, size=12))
    _merged(sheet, row + 2, half + 1, width, t("xlsx_sign_hint"), Font(name="Times New Roman", italic=True, size=12))


def _merged(sheet, row: int, first: int, last: int, value, font) -> None:
    if last > first:
        sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    cell = sheet.cell(row=row, column=first, value=value)
    cell.font, cell.alignment = font, _CENTRE


def _row(sheet, row: int, values: list, header: bool = False, bold: bool = False) -> None:
    for column, value in enumerate(values, 1):
        cell = sheet.cell(row=row, column=column, value=value)
        cell.border = _BOX
        cell.font = _BOLD if header or bold else _PLAIN
        cell.alignment = _CENTRE if header or isinstance(value, (int, float)) else _WRAP


def _widths(sheet, widths: list[int]) -> None:
    for column, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%".replace(".", ",")


def _bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
