"""User-facing text: Vietnamese by default, English on request (?lang=en, remembered in a cookie)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, request

LANGUAGES = ("vi", "en")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")

MESSAGES: dict[str, dict[str, str]] = {
    "app_title": {"vi": "Theo dõi, đôn đốc nhiệm vụ UBND tỉnh", "en": "Tracking tasks assigned by the Provincial People's Committee"},
    "health_ok": {"vi": "Hệ thống hoạt động bình thường", "en": "The system is working"},
    "definitions": {"vi": "Quy trình đã triển khai", "en": "Deployed processes"},
    "instances": {"vi": "Hồ sơ quy trình gần đây", "en": "Recent process instances"},
    "process": {"vi": "Mã quy trình", "en": "Process id"},
    "name": {"vi": "Tên", "en": "Name"},
    "version": {"vi": "Phiên bản", "en": "Version"},
    "deployed_at": {"vi": "Triển khai lúc", "en": "Deployed at"},
    "deployed_by": {"vi": "Người triển khai", "en": "Deployed by"},
    "instance_count": {"vi": "Số hồ sơ", "en": "Instances"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "created_at": {"vi": "Tạo lúc", "en": "Created at"},
    "none_yet": {"vi": "Chưa có.", "en": "None yet."},
    "status_running": {"vi": "Đang xử lý", "en": "Running"},
    "status_completed": {"vi": "Hoàn thành", "en": "Completed"},
    "status_cancelled": {"vi": "Đã hủy", "en": "Cancelled"},
    "status_error": {"vi": "Lỗi", "en": "Error"},
    "error_not_found": {"vi": "Không tìm thấy", "en": "Not found"},
    "error_conflict": {"vi": "Xung đột dữ liệu", "en": "Conflict"},
    "error_invalid_input": {"vi": "Dữ liệu không hợp lệ", "en": "Invalid input"},
    "error_diagram_error": {"vi": "Lỗi trong sơ đồ quy trình", "en": "Error in the process diagram"},
    "error_invalid_bpmn": {"vi": "Sơ đồ BPMN không hợp lệ", "en": "Invalid BPMN diagram"},
    "error_engine_error": {"vi": "Lỗi hệ thống", "en": "System error"},
    "switch_language": {"vi": "English", "en": "Tiếng Việt"},
}


def init_app(app: Flask) -> None:
    """Pick the language per request and give templates `_()` and date filters."""

    @app.before_request
    def _pick_language():
        asked = request.args.get("lang")
        g.lang = asked if asked in LANGUAGES else request.cookies.get("lang", "vi")
        if g.lang not in LANGUAGES:
            g.lang = "vi"
        g.remember_lang = asked in LANGUAGES

    @app.after_request
    def _remember_language(response):
        if getattr(g, "remember_lang", False):
            response.set_cookie("lang", g.lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    app.jinja_env.globals["_"] = translate
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime


def translate(key: str) -> str:
    """The message `key` in the request's language (the key itself if unknown)."""
    lang = getattr(g, "lang", "vi")
    return MESSAGES.get(key, {}).get(lang, key)


def format_date(value: datetime | None) -> str:
    """dd/mm/yyyy in Vietnam's time zone."""
    return value.astimezone(TZ).strftime("%d/%m/%Y") if value else ""


def format_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam's time zone."""
    return value.astimezone(TZ).strftime("%d/%m/%Y %H:%M") if value else ""
