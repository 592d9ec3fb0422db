"""User-facing text: Vietnamese by default, English on request (?lang=en, remembered in a cookie)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, g, request

from engine.core.errors import InvalidInput

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
    "login_title": {"vi": "Đăng nhập", "en": "Sign in"},
    "username": {"vi": "Tên đăng nhập", "en": "Username"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "login_button": {"vi": "Đăng nhập", "en": "Sign in"},
    "logout": {"vi": "Đăng xuất", "en": "Sign out"},
    "login_failed": {"vi": "Tên đăng nhập hoặc mật khẩu không đúng.", "en": "Wrong username or password."},
    "login_rate_limited": {"vi": "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.",
                           "en": "Too many failed sign-ins. Please try again in a few minutes."},
    "login_welcome": {"vi": "Xin chào {name}.", "en": "Welcome, {name}."},
    "inbox": {"vi": "Việc cần xử lý", "en": "My tasks"},
    "task": {"vi": "Công việc", "en": "Task"},
    "process_name": {"vi": "Quy trình", "en": "Process"},
    "unit": {"vi": "Đơn vị", "en": "Unit"},
    "due": {"vi": "Hạn xử lý", "en": "Due"},
    "received": {"vi": "Nhận lúc", "en": "Received"},
    "search": {"vi": "Tìm kiếm", "en": "Search"},
    "filter": {"vi": "Lọc", "en": "Filter"},
    "all": {"vi": "Tất cả", "en": "All"},
    "no_tasks": {"vi": "Không có công việc nào.", "en": "Nothing to do."},
    "page": {"vi": "Trang", "en": "Page"},
    "previous": {"vi": "Trang trước", "en": "Previous"},
    "next": {"vi": "Trang sau", "en": "Next"},
    "category_overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "category_nearly_due": {"vi": "Sắp đến hạn", "en": "Nearly due"},
    "category_within_deadline": {"vi": "Trong hạn", "en": "Within deadline"},
    "category_no_deadline": {"vi": "Không thời hạn", "en": "No deadline"},
    "submit": {"vi": "Gửi", "en": "Submit"},
    "form_has_errors": {"vi": "Vui lòng sửa các lỗi bên dưới.", "en": "Please correct the errors below."},
    "task_done": {"vi": "Đã hoàn thành: {name}.", "en": "Done: {name}."},
    "task_conflict": {"vi": "Công việc này vừa được người khác xử lý hoặc đã thay đổi; vui lòng xem lại.",
                      "en": "Someone else has just handled or changed this task; please check again."},
    "task_context": {"vi": "Thông tin nhiệm vụ", "en": "Task information"},
    "notifications": {"vi": "Thông báo", "en": "Notifications"},
    "notification": {"vi": "Nội dung", "en": "Notification"},
    "mark_all_read": {"vi": "Đánh dấu đã đọc", "en": "Mark all read"},
    "new": {"vi": "Mới", "en": "New"},
    "register_document": {"vi": "Đăng ký văn bản giao nhiệm vụ", "en": "Register an assigning document"},
    "number_symbol": {"vi": "Số, ký hiệu", "en": "Number and symbol"},
    "issued_on": {"vi": "Ngày ban hành", "en": "Issued on"},
    "doc_type": {"vi": "Loại văn bản", "en": "Document type"},
    "issuer": {"vi": "Cơ quan ban hành", "en": "Issuer"},
    "signer": {"vi": "Người ký", "en": "Signer"},
    "summary": {"vi": "Trích yếu", "en": "Summary"},
    "classification": {"vi": "Độ mật", "en": "Classification"},
    "not_classified": {"vi": "Không mật", "en": "Not classified"},
    "tasks_assigned": {"vi": "Nhiệm vụ được giao", "en": "Tasks assigned"},
    "content": {"vi": "Nội dung nhiệm vụ", "en": "Task"},
    "lead_unit": {"vi": "Đơn vị chủ trì (mã)", "en": "Lead unit (code)"},
    "coordinators": {"vi": "Đơn vị phối hợp (mã, cách nhau dấu phẩy)", "en": "Coordinating units (codes, comma separated)"},
    "deadline": {"vi": "Thời hạn", "en": "Deadline"},
    "cadence": {"vi": "Kỳ cập nhật (nếu không thời hạn)", "en": "Update cadence (if no deadline)"},
    "expected_output": {"vi": "Sản phẩm đầu ra", "en": "Expected output"},
    "classified_refused": {"vi": "Văn bản có độ mật không được đưa vào hệ thống. Không có dữ liệu nào được lưu.",
                           "en": "Classified documents are excluded from the system. Nothing was stored."},
    "document_registered": {"vi": "Đã đăng ký văn bản và giao {n} nhiệm vụ.", "en": "Document registered, {n} task(s) assigned."},
    "task_list": {"vi": "Danh sách nhiệm vụ", "en": "Tasks"},
    "status_label": {"vi": "Tình trạng", "en": "Status"},
    "urged": {"vi": "Số lần đôn đốc", "en": "Times urged"},
    "file_feedback": {"vi": "Phản hồi thông tin về việc thực hiện nhiệm vụ", "en": "Report a late or off-requirement task"},
    "task_id": {"vi": "Mã nhiệm vụ", "en": "Task id"},
    "feedback_content": {"vi": "Nội dung phản hồi", "en": "What is wrong"},
    "feedback_filed": {"vi": "Đã gửi phản hồi đến Văn phòng UBND tỉnh.", "en": "Feedback sent to the Provincial Office."},
    "feedback_who": {"vi": "Chỉ UBND huyện, cơ quan, tổ chức liên quan gửi phản hồi.", "en": "Only district PCs and agencies file feedback."},
    "category_returned": {"vi": "Trả lại", "en": "Returned"},
    "category_cancelled": {"vi": "Đã hủy", "en": "Cancelled"},
    "category_awaiting_confirmation": {"vi": "Chờ xác nhận", "en": "Awaiting confirmation"},
    "category_completed_on_time": {"vi": "Hoàn thành đúng hạn", "en": "Completed on time"},
    "category_completed_late": {"vi": "Hoàn thành quá hạn", "en": "Completed late"},
    "category_completed_no_deadline": {"vi": "Hoàn thành (không thời hạn)", "en": "Completed (no deadline)"},
    "category_in_progress": {"vi": "Đang thực hiện", "en": "In progress"},
    "claimed_by_me": {"vi": "Việc tôi đã nhận", "en": "Claimed by me"},
    "handler": {"vi": "Người xử lý", "en": "Handler"},
    "claim": {"vi": "Nhận xử lý", "en": "Claim"},
    "release": {"vi": "Trả lại", "en": "Release"},
    "diagram": {"vi": "Sơ đồ quy trình (vị trí hiện tại được tô đỏ)", "en": "Process diagram (current step in red)"},
    "history": {"vi": "Lịch sử xử lý", "en": "History"},
    "request_note": {"vi": "Nội dung yêu cầu", "en": "Request"},
    "request_update": {"vi": "Yêu cầu cập nhật đột xuất", "en": "Ask for an update now"},
    "update_requested": {"vi": "Đã gửi yêu cầu cập nhật đến đơn vị chủ trì.", "en": "Update requested from the lead unit."},
    "update_progress": {"vi": "Cập nhật tiến độ", "en": "Update progress"},
    "work_done": {"vi": "Công việc đã thực hiện, kết quả", "en": "Work done and results"},
    "difficulties": {"vi": "Khó khăn, vướng mắc", "en": "Difficulties"},
    "proposals": {"vi": "Đề xuất, kiến nghị", "en": "Proposals"},
    "report_document": {"vi": "Văn bản báo cáo", "en": "Reporting document"},
    "attachments": {"vi": "Tệp đính kèm (PDF, Word, Excel, ảnh; tối đa 20 MB)", "en": "Attachments (PDF, Word, Excel, images; 20 MB max)"},
    "progress_saved": {"vi": "Đã lưu cập nhật tiến độ.", "en": "Progress update saved."},
    "delegate": {"vi": "Giao đơn vị trực thuộc thực hiện", "en": "Delegate to a unit below"},
    "delegated": {"vi": "Đã giao phần việc cho đơn vị trực thuộc.", "en": "Part delegated."},
    "parts": {"vi": "Phần việc đã giao", "en": "Delegated parts"},
    "updates": {"vi": "Các lần cập nhật", "en": "Updates"},
    "state_in_progress": {"vi": "Đang thực hiện", "en": "In progress"},
    "state_blocked": {"vi": "Gặp vướng mắc", "en": "Blocked"},
    "state_done": {"vi": "Đã hoàn thành", "en": "Done"},
    "state_not_started": {"vi": "Chưa thực hiện", "en": "Not started"},
    "state_input": {"vi": "Thông tin phối hợp", "en": "Coordinating input"},
    "feedback_register": {"vi": "Sổ theo dõi thông tin phản hồi", "en": "Feedback register"},
    "provider": {"vi": "Đơn vị phản hồi", "en": "Reported by"},
    "outcome": {"vi": "Kết quả xử lý", "en": "Outcome"},
    "outcome_urge": {"vi": "Đã đôn đốc", "en": "Urged"},
    "outcome_ask_direction": {"vi": "Đã xin ý kiến chỉ đạo", "en": "Direction asked"},
    "outcome_unfounded": {"vi": "Không có cơ sở", "en": "Unfounded"},
    "outcome_None": {"vi": "Đang xử lý", "en": "In progress"},
    "open_only": {"vi": "Chỉ phản hồi đang xử lý", "en": "Open only"},
    "urging_documents": {"vi": "Văn bản đôn đốc", "en": "Urging documents"},
    "period": {"vi": "Hạn trong kỳ", "en": "Due in"},
    "task_record": {"vi": "Hồ sơ nhiệm vụ, cập nhật và tệp đính kèm", "en": "Task record, updates and attachments"},
    "error_bad_request": {"vi": "Yêu cầu không hợp lệ", "en": "Bad request"},
    "error_forbidden": {"vi": "Không có quyền truy cập", "en": "Forbidden"},
    "error_form_invalid": {"vi": "Dữ liệu biểu mẫu không hợp lệ", "en": "Invalid form data"},
    "reporting_rounds": {"vi": "Kỳ báo cáo tự kiểm tra", "en": "Self-inspection reporting rounds"},
    "reporting_rounds_intro": {"vi": "Mở kỳ báo cáo sau ngày chốt số liệu: mỗi đơn vị nhận một nhiệm vụ báo cáo, số liệu được điền sẵn theo kỳ (Điều 17.1; Nghị định 09/2019/NĐ-CP, Điều 12).",
                               "en": "Open a period's round after its data cut-off day: each unit gets a report task with its figures prefilled (Art. 17.1; Decree 09/2019, Art. 12)."},
    "reporting_round": {"vi": "Kỳ báo cáo", "en": "Reporting round"},
    "open_round_title": {"vi": "Mở một kỳ báo cáo", "en": "Open a round"},
    "plan_title": {"vi": "Tự động mở kỳ báo cáo", "en": "Rounds that open by themselves"},
    "plan_intro": {"vi": "Với các loại kỳ được chọn, hệ thống tự mở kỳ báo cáo ngay sau ngày chốt số liệu, cho các sở, ngành, UBND cấp huyện và cơ quan khác.",
                   "en": "For the kinds of period chosen, the system opens the round itself right after the data cut-off day, for departments, districts and other agencies."},
    "plan_save": {"vi": "Lưu lựa chọn", "en": "Save"},
    "plan_saved": {"vi": "Đã lưu các loại kỳ tự động mở.", "en": "Saved."},
    "round_cadence": {"vi": "Loại kỳ báo cáo", "en": "Kind of period"},
    "round_period_day": {"vi": "Một ngày trong kỳ", "en": "A day in the period"},
    "round_units": {"vi": "Đơn vị báo cáo", "en": "Reporting units"},
    "round_units_missing": {"vi": "Chọn ít nhất một loại đơn vị báo cáo", "en": "Choose at least one kind of reporting unit"},
    "open_round": {"vi": "Mở kỳ báo cáo", "en": "Open the round"},
    "round_opened": {"vi": "Đã mở kỳ báo cáo {label}: {n} đơn vị nhận nhiệm vụ báo cáo.", "en": "Round {label} opened: {n} units have a report to send."},
    "rounds_opened": {"vi": "Các kỳ đã mở", "en": "Rounds opened"},
    "round_period": {"vi": "Kỳ", "en": "Period"},
    "round_window": {"vi": "Số liệu từ – đến", "en": "Data window"},
    "round_due": {"vi": "Hạn gửi báo cáo", "en": "Reports due"},
    "round_submitted": {"vi": "Đã gửi", "en": "Sent"},
    "round_late": {"vi": "Chậm hoặc chưa gửi quá hạn", "en": "Late, or missing past the deadline"},
    "round_consolidated": {"vi": "Tổng hợp", "en": "Consolidated"},
    "round_opened_by": {"vi": "Người mở kỳ", "en": "Opened by"},
    "round_summary": {"vi": "Báo cáo tổng hợp", "en": "Consolidated report"},
    "round_reports": {"vi": "Báo cáo của các đơn vị", "en": "The units' reports"},
    "round_sent_at": {"vi": "Gửi lúc", "en": "Sent at"},
    "round_figures": {"vi": "Số liệu (chốt đến ngày cuối kỳ)", "en": "Figures (as of the cut-off)"},
    "round_content": {"vi": "Nội dung báo cáo", "en": "Report"},
    "not_yet": {"vi": "Chưa", "en": "Not yet"},
    "report_state_submitted": {"vi": "Đã gửi đúng hạn", "en": "Sent on time"},
    "report_state_submitted_late": {"vi": "Gửi chậm", "en": "Sent late"},
    "report_state_overdue": {"vi": "Quá hạn, chưa gửi", "en": "Overdue, not sent"},
    "report_state_pending": {"vi": "Chưa gửi", "en": "Not sent yet"},
    "figures_total": {"vi": "Tổng", "en": "Total"},
    "figures_on_time": {"vi": "xong đúng hạn", "en": "done on time"},
    "figures_late": {"vi": "xong quá hạn", "en": "done late"},
    "figures_overdue": {"vi": "quá hạn", "en": "overdue"},
    "cadence_monthly": {"vi": "Tháng", "en": "Monthly"},
    "cadence_quarterly": {"vi": "Quý", "en": "Quarterly"},
    "cadence_half_yearly": {"vi": "6 tháng", "en": "6-month"},
    "cadence_nine_months": {"vi": "9 tháng", "en": "9-month"},
    "cadence_yearly": {"vi": "Năm", "en": "Annual"},
    "unit_kind_department": {"vi": "Sở, ban, ngành", "en": "Departments"},
    "unit_kind_district": {"vi": "UBND cấp huyện", "en": "Districts"},
    "unit_kind_other_agency": {"vi": "Cơ quan khác", "en": "Other agencies"},
    "unit_kind_commune": {"vi": "UBND cấp xã", "en": "Communes"},
}


def parse_date(text: str | None, field: str) -> date:
    """A day typed as dd/mm/yyyy (as Vietnamese users write it) or yyyy-mm-dd (a date input)."""
    value = (text or "").strip()
    try:
        if "/" in value:
            day, month, year = value.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: ngày không hợp lệ (dd/mm/yyyy)") from None


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
    app.jinja_env.filters["due"] = format_due
    app.jinja_env.filters["ddmmyyyy"] = format_iso_date


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


def format_due(value: datetime | None) -> str:
    """A deadline as people say it: a deadline ending at 24:00 shows as that day, dd/mm/yyyy."""
    if not value:
        return ""
    local = value.astimezone(TZ)
    if local.hour == local.minute == 0:
        return (local - timedelta(minutes=1)).strftime("%d/%m/%Y")
    return local.strftime("%d/%m/%Y %H:%M")


def format_iso_date(value) -> str:
    """An ISO date from task data as dd/mm/yyyy; anything else as given (a user's own typing)."""
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return "" if value is None else str(value)
