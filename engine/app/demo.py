"""A living province for `make run`: about 200 tasks in mixed states, made through the real use cases.

Nothing is inserted behind the engine's back: documents are registered, units accept or return
tasks, report, get reminded, go overdue, districts file feedback and the Office urges, reporting
rounds open after each cut-off and units send their reports, day by day on a fixed clock that walks
from some months ago up to today. Deterministic for a seed.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from engine.core.clock import FixedClock
from engine.process import instances
from engine.process.schedules import fire_due_schedules
from engine.process.timers import fire_due_timers
from engine.regulation import reporting_plan, tracking
from engine.regulation.records import Document, Feedback, TrackedTask
from engine.worktime.calendar import TZ

DEPARTMENTS = ["so-tu-phap", "so-tai-chinh", "so-ke-hoach-dau-tu", "so-xay-dung", "so-giao-thong-van-tai",
               "so-nong-nghiep-ptnt", "so-tai-nguyen-moi-truong", "so-y-te", "so-giao-duc-dao-tao",
               "so-cong-thuong", "so-noi-vu", "so-thong-tin-truyen-thong"]
DISTRICTS = ["tp-ben-tre", "huyen-chau-thanh", "huyen-cho-lach", "huyen-mo-cay-nam", "huyen-mo-cay-bac",
             "huyen-giong-trom", "huyen-binh-dai", "huyen-ba-tri", "huyen-thanh-phu"]
TOPICS = ["Triển khai kế hoạch chuyển đổi số", "Rà soát thủ tục hành chính", "Đẩy nhanh giải ngân vốn đầu tư công",
          "Phòng, chống hạn mặn mùa khô", "Kiểm tra an toàn thực phẩm", "Sửa chữa tuyến đường huyện",
          "Cải cách hành chính năm 2025", "Thu hút đầu tư vào khu công nghiệp", "Phòng chống sạt lở bờ sông",
          "Xây dựng nông thôn mới nâng cao", "Quản lý đất đai, giải phóng mặt bằng", "Tổng kết phong trào thi đua"]
DOC_TYPES = [("QĐ-UBND", "quyet_dinh"), ("CT-UBND", "chi_thi"), ("KH-UBND", "ke_hoach"), ("UBND-KT", "cong_van"),
             ("TB-VPUBND", "thong_bao_ket_luan")]


def has_records(ctx) -> bool:
    """True when documents exist already (the demo only fills an empty province)."""
    with ctx.unit_of_work(readonly=True) as session:
        return bool(session.scalar(select(func.count()).select_from(Document)))


def build_demo(ctx, today: date, tasks: int = 200, days: int = 150, seed: int = 2023) -> dict[str, int]:
    """Play `days` of the province's life up to `today`, registering about `tasks` tasks."""
    rng = random.Random(seed)
    real_clock, ctx.clock = ctx.clock, FixedClock(datetime.combine(today - timedelta(days=days), time(8), TZ))
    made = {"documents": 0, "tasks": 0, "feedback": 0, "reporting_rounds": 0}
    # The Office has monthly and quarterly rounds open by themselves (Art. 17.1); it can change that.
    reporting_plan.set_automatic_cadences(ctx, ["monthly", "quarterly"], actor="cv.hoa")
    try:
        for day in range(days + 1):
            ctx.clock.set(datetime.combine(today - timedelta(days=days - day), time(8), TZ))
            made["reporting_rounds"] += len(reporting_plan.open_due_rounds(ctx))
            if ctx.clock.now().weekday() < 5 and made["tasks"] < tasks:
                _register_some(ctx, rng, made, tasks - made["tasks"])
            ctx.clock.set(ctx.clock.now().replace(hour=15))
            _work(ctx, rng, made, today)
            fire_due_timers(ctx, limit=1000, actor="timer")
            fire_due_schedules(ctx, actor="scheduler")
        _direction_asked(ctx, rng, made)
    finally:
        ctx.clock = real_clock
    return made


def _register_some(ctx, rng: random.Random, made: dict[str, int], left: int) -> None:
    if rng.random() > 0.75:
        return
    number = 100 + made["documents"]
    suffix, doc_type = rng.choice(DOC_TYPES)
    today = ctx.clock.now().astimezone(TZ).date()
    task_inputs = []
    for _ in range(min(left, rng.randint(1, 4))):
        lead = rng.choice(DEPARTMENTS + DISTRICTS)
        with_deadline = rng.random() < 0.75
        task_inputs.append(tracking.TaskInput(
            content=rng.choice(TOPICS), lead_unit=lead, expected_output="Báo cáo kết quả",  # the unit has its column
            deadline=today + timedelta(days=rng.randint(7, 75)) if with_deadline else None,
            update_cadence=None if with_deadline else rng.choice(["monthly", "quarterly"]),
            coordinators=tuple(rng.sample([d for d in DEPARTMENTS if d != lead], rng.randint(0, 1)))))
    tracking.register_document(ctx, tracking.DocumentInput(
        number_symbol=f"{number}/{suffix}", issued_on=today, doc_type=doc_type, issuer="UBND tỉnh Bến Tre",
        signer=rng.choice(["Chủ tịch UBND tỉnh", "Phó Chủ tịch UBND tỉnh"]),
        summary=f"Về việc {rng.choice(TOPICS).lower()}"), task_inputs, actor=rng.choice(["cv.hoa", "cv.minh"]))
    made["documents"] += 1
    made["tasks"] += len(task_inputs)


def _work(ctx, rng: random.Random, made: dict[str, int], today: date) -> None:
    """Each open task moves on with some probability, as busy people do."""
    for task in instances.list_ready_tasks(ctx, limit=5000):
        age = (ctx.clock.now() - task.created_at).days
        data = _answer(rng, task.bpmn_id, age, ctx.clock.now().astimezone(TZ).date())
        if data is not None:
            instances.complete_task(ctx, task.instance_id, task.task_id, data, actor=_ACTORS.get(task.bpmn_id, "demo"))
    if rng.random() < 0.12:
        _file_feedback(ctx, rng, made)


# Steps whose record names the person: the PPC leader's direction shows who gave it.
_ACTORS = {"give_direction": "ld.ubndtinh"}


def _answer(rng: random.Random, bpmn_id: str, age: int, today: date) -> dict | None:
    keen = rng.random()
    if bpmn_id in ("review_receipt", "review_receipt_open") and age >= 1 and keen < 0.6:
        if keen < 0.05:
            return {"decision": "return", "return_reason": "Nhiệm vụ không thuộc chức năng, nhiệm vụ của đơn vị"}
        return {"decision": "accept"}
    if bpmn_id == "handle_return" and keen < 0.5:
        return {"action": "reroute", "new_lead_unit": rng.choice(DEPARTMENTS)} if keen < 0.35 else {"action": "cancel"}
    if bpmn_id in ("report_completion", "report_completion_open") and age >= 10 and keen < 0.015:
        return {"result": "Đã hoàn thành nhiệm vụ", "report_document": f"{rng.randint(1, 300)}/BC",
                "completed_on": today.isoformat()}
    if bpmn_id == "confirm_completion" and age >= 1 and keen < 0.5:
        if keen < 0.45:
            return {"decision": "confirm"}
        return {"decision": "send_back", "reason": "Bổ sung số liệu chi tiết"}
    if bpmn_id == "update_progress" and age >= 2 and keen < 0.3:
        return {"state": "in_progress", "work_done": "Đang triển khai theo kế hoạch"}
    if bpmn_id == "provide_input" and age >= 2 and keen < 0.3:
        return {"content": "Đơn vị phối hợp đã cung cấp thông tin liên quan"}
    if bpmn_id == "check_feedback" and age >= 2 and keen < 0.3:
        return {"decision": rng.choice(["urge", "urge", "ask_direction", "unfounded"]), "assessment": "Đã kiểm tra"}
    if bpmn_id == "issue_urging" and keen < 0.5:
        return {"number_symbol": f"{rng.randint(1000, 9999)}/VP-UBND", "issued_on": today.isoformat(),
                "summary": "Đôn đốc thực hiện nhiệm vụ được giao"}
    if bpmn_id == "ask_direction" and keen < 0.4:
        if keen < 0.08:  # now and then the Chairman has already given it, at a meeting
            return {"direction_route": "given_outside", "direction": "Yêu cầu đơn vị khẩn trương hoàn thành",
                    "directed_by": "Chủ tịch UBND tỉnh (tại cuộc họp giao ban)", "directed_on": today.isoformat()}
        return {"direction_route": "ask_ppc", "request": "Đơn vị chủ trì chậm triển khai; kính đề nghị lãnh đạo "
                "UBND tỉnh cho ý kiến chỉ đạo"}
    if bpmn_id == "give_direction" and age >= 3 and keen < 0.25:
        return {"direction": "Yêu cầu đơn vị khẩn trương hoàn thành, báo cáo kết quả"}
    if bpmn_id == "notify_direction" and keen < 0.5:
        return {"notice_number": f"{rng.randint(100, 999)}/TB-VPUBND", "issued_on": today.isoformat()}
    if bpmn_id == "answer_unfounded" and keen < 0.5:
        return {"answer": "Đơn vị đang thực hiện đúng tiến độ"}
    if bpmn_id == "submit_report" and keen < 0.3:
        return {"content": "Đơn vị đã tự kiểm tra việc thực hiện các nhiệm vụ được giao trong kỳ",
                "report_document": f"{rng.randint(1, 300)}/BC"}
    if bpmn_id == "consolidate" and age >= 5 and keen < 0.5:
        return {"summary": "Tổng hợp kết quả tự kiểm tra của các sở, ngành, địa phương trong kỳ"}
    if bpmn_id == "handle_overdue" and keen < 0.3:
        return {"instruction": "Chuyên viên hoàn thành việc kiểm tra trong ngày"}
    return None


def _direction_asked(ctx, rng: random.Random, made: dict[str, int]) -> None:
    """On the last day a feedback is waiting for the PPC leader's direction, so that `ld.ubndtinh` has
    something in the inbox whatever the dice gave (Art. 15.5)."""
    feedback_id = _file_feedback(ctx, rng, made)
    if feedback_id is None:
        return
    with ctx.unit_of_work(readonly=True) as session:
        instance_id = session.get(Feedback, feedback_id).instance_id
    for bpmn_id, data, actor in (
            ("check_feedback", {"decision": "ask_direction", "assessment": "Phản ánh đúng; đề xuất xin ý kiến chỉ đạo"},
             "cv.hoa"),
            ("ask_direction", {"direction_route": "ask_ppc", "request": "Đơn vị chủ trì chậm triển khai nhiều lần dù "
                               "đã được đôn đốc; kính đề nghị lãnh đạo UBND tỉnh cho ý kiến chỉ đạo"}, "ld.vanphong")):
        task = next(t for t in instances.list_ready_tasks(ctx, instance_id=instance_id) if t.bpmn_id == bpmn_id)
        instances.complete_task(ctx, instance_id, task.task_id, data, actor=actor)


def _file_feedback(ctx, rng: random.Random, made: dict[str, int]) -> int | None:
    with ctx.unit_of_work(readonly=True) as session:
        open_ids = list(session.scalars(select(TrackedTask.id).where(
            TrackedTask.status.in_(["in_progress", "no_deadline"]), TrackedTask.parent_task_id.is_(None))))
    if not open_ids:
        return None
    feedback_id = tracking.file_feedback(ctx, rng.choice(open_ids), rng.choice(DISTRICTS),
                                         "Đơn vị chủ trì chậm triển khai, ảnh hưởng đến địa phương", actor="demo")
    made["feedback"] += 1
    return feedback_id
