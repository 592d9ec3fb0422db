"""The simulated staff of bench/load.py: each one a thread with its own API token and keep-alive connection.

A staff member works in a closed loop with a think time between requests, as people do, only much
faster: open the inbox, open a task, complete it with what a person in that role would type (or find
it already done by a colleague: 409); a unit's focal point records progress on its tasks; a district
files feedback on a late department; the Office registers new documents, some with a deadline already
past so that their reminder and overdue timers fall due during the run; everyone reads notifications.
A 503 is retried as the API asks (Retry-After), at most `RETRIES` times, and so is a request whose
connection dropped: every write carries an `Idempotency-Key`, the same on each attempt, so a write that
was done before its answer was lost is answered again (or 409, done) and not done twice.
Every answer is kept (`Outcome`), and what the server acknowledged is kept by id so that bench/load.py
can look for it in the database afterwards.
"""
from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

RETRIES = 4
_ids = itertools.count()
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)

# What a person in the step's role answers, by the step's BPMN id (the shipped forms' fields).
ANSWERS = {
    "review_receipt": lambda today: {"decision": "accept"},
    "review_receipt_open": lambda today: {"decision": "accept"},
    "report_completion": lambda today: {"result": "Đã hoàn thành nhiệm vụ", "report_document": "12/BC",
                                        "completed_on": today.isoformat()},
    "report_completion_open": lambda today: {"result": "Đã hoàn thành nhiệm vụ", "report_document": "12/BC",
                                             "completed_on": today.isoformat()},
    "confirm_completion": lambda today: {"decision": "confirm"},
    "update_progress": lambda today: {"state": "in_progress", "work_done": "Đang triển khai theo kế hoạch"},
    "provide_input": lambda today: {"content": "Đơn vị phối hợp đã cung cấp thông tin liên quan"},
    "check_feedback": lambda today: {"decision": "urge", "assessment": "Đã kiểm tra, đơn vị chậm thực hiện"},
    "issue_urging": lambda today: {"number_symbol": f"{random.randint(1000, 9999)}/VP-UBND",
                                   "issued_on": today.isoformat(), "summary": "Đôn đốc thực hiện nhiệm vụ"},
    "answer_unfounded": lambda today: {"answer": "Đơn vị đang thực hiện đúng tiến độ"},
    "submit_report": lambda today: {"content": "Đơn vị đã tự kiểm tra việc thực hiện nhiệm vụ trong kỳ",
                                    "report_document": "7/BC"},
}


@dataclass
class Outcome:
    """Everything the staff saw: each request's route, status and milliseconds, and what was acknowledged."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[tuple[str, int, float]] = field(default_factory=list)   # (what, status or 0, ms)
    # Each attempt's request id (sent as X-Request-Id, so the server's log line can be found) and wall-clock
    # send and receive times: bench/load.py splits a slow request into time in the app and time outside it.
    traces: list[tuple[str, float, float]] = field(default_factory=list)
    calls: list[tuple[str, int]] = field(default_factory=list)               # (what, last attempt's status)
    completions: list[tuple[int, str]] = field(default_factory=list)        # (instance, task) answered 200
    progress: list[int] = field(default_factory=list)
    feedback: list[int] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)
    replayed: int = 0    # writes answered from their Idempotency-Key: done before, their answer lost

    def add(self, what: str, status: int, ms: float, trace: tuple[str, float, float] | None = None) -> None:
        with self.lock:
            self.requests.append((what, status, ms))
            if trace is not None:
                self.traces.append(trace)


class Staff:
    """One person at a keyboard: a token, a role, a connection."""

    def __init__(self, host: str, port: int, token: str, role: str, outcome: Outcome, seed: int,
                 think: float, unit_codes: list[str]):
        self.host, self.port, self.token, self.role = host, port, token, role
        self.outcome, self.rng, self.think, self.unit_codes = outcome, random.Random(seed), think, unit_codes
        self.connection: http.client.HTTPConnection | None = None

    def run(self, until: float) -> None:
        # Everyone starts after a think pause too, as in a working day: the staff are not 50 people
        # pressing a key in the same millisecond.
        time.sleep(self.rng.uniform(0, self.think))
        while time.monotonic() < until:
            try:
                self._one_round()
            finally:
                time.sleep(self.rng.uniform(0, self.think))

    def _one_round(self) -> None:
        luck = self.rng.random()
        if luck < 0.2:
            self.call("GET", "/api/notifications?per_page=20", "notifications")
        elif self.role == "unit_focal_point" and luck < 0.35:
            self._record_progress()
        elif self.role == "district" and luck < 0.35:
            self._file_feedback()
        elif self.role == "tracking_specialist" and luck < 0.27:
            self._register_document()
        else:
            self._work_inbox()

    def _work_inbox(self) -> None:
        status, body = self.call("GET", "/api/tasks?per_page=20", "inbox")
        items = [i for i in (body or {}).get("items", []) if i["bpmn_id"] in ANSWERS] if status == 200 else []
        if not items:
            return
        item = self.rng.choice(items[:10])
        path = f"/api/tasks/{item['instance_id']}/{item['task_id']}"
        status, task = self.call("GET", path, "task")
        if status != 200 or task.get("state") != "ready":
            return
        answer = ANSWERS[item["bpmn_id"]](date.today())
        status, _ = self.call("POST", path + "/complete", "complete",
                              {"data": answer, "row_version": task["row_version"]})
        if status == 200:
            with self.outcome.lock:
                self.outcome.completions.append((item["instance_id"], item["task_id"]))

    def _record_progress(self) -> None:
        status, body = self.call("GET", "/api/tracked-tasks?per_page=20&status=in_progress", "tracked_tasks")
        tasks = (body or {}).get("items", []) if status == 200 else []
        if not tasks:
            return
        task = self.rng.choice(tasks)
        status, answer = self.call("POST", f"/api/tracked-tasks/{task['id']}/progress", "progress",
                                   {"state": "in_progress", "work_done": "Đã triển khai các bước đầu"})
        if status == 201:
            with self.outcome.lock:
                self.outcome.progress.append(answer["progress_update_id"])

    def _file_feedback(self) -> None:
        status, body = self.call("GET", "/api/feedback/tasks?per_page=20", "feedback_tasks")
        tasks = (body or {}).get("items", []) if status == 200 else []
        if not tasks:
            return
        task = self.rng.choice(tasks)
        status, answer = self.call("POST", "/api/feedback", "feedback",
                                   {"task_id": task["id"], "content": "Sở chưa triển khai nhiệm vụ, đề nghị đôn đốc"})
        if status == 201:
            with self.outcome.lock:
                self.outcome.feedback.append(answer["feedback_id"])

    def _register_document(self) -> None:
        today = date.today()
        number = self.rng.randint(100, 99999)
        tasks = [{"content": f"Nhiệm vụ kiểm tra tải số {number}-{i}", "lead_unit": self.rng.choice(self.unit_codes),
                  "deadline": (today + timedelta(days=self.rng.choice([-20, -3, 2, 15, 40]))).isoformat()}
                 for i in range(self.rng.randint(1, 3))]
        status, answer = self.call("POST", "/api/documents", "register", {
            "number_symbol": f"{number}/QĐ-UBND", "issued_on": (today - timedelta(days=30)).isoformat(),
            "doc_type": "quyet_dinh",
            "issuer": "UBND tỉnh Bến Tre", "signer": "Chủ tịch UBND tỉnh", "summary": "Giao nhiệm vụ (tải thử)",
            "tasks": tasks})
        if status == 201:
            with self.outcome.lock:
                self.outcome.documents.append(answer["document_id"])

    def call(self, method: str, path: str, what: str, body: dict | None = None) -> tuple[int, dict | None]:
        """One request, retried after a 503 or a dropped connection; every attempt is recorded."""
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if method != "GET":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        stale_retried = False
        for attempt in range(RETRIES + 1):
            headers["X-Request-Id"] = request_id = f"load-{os.getpid()}-{next(_ids)}"
            sent_at = time.time()
            began = time.perf_counter()
            reused = self.connection is not None
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
                status, wait = response.status, float(response.headers.get("Retry-After") or 0.5)
                if response.headers.get("Idempotent-Replayed"):
                    with self.outcome.lock:
                        self.outcome.replayed += 1
            except (OSError, http.client.HTTPException) as error:
                self.connection, status, raw, wait = None, 0, b"", 0.5
                if reused and not stale_retried and isinstance(error, _STALE):
                    # A kept-alive connection the server had closed while idle (after gunicorn's --keep-alive):
                    # sent again on a new connection at once, as browsers do. Not counted as an attempt.
                    stale_retried = True
                    continue
            self.outcome.add(what, status, (time.perf_counter() - began) * 1000, (request_id, sent_at, time.time()))
            if status not in (0, 503) or attempt == RETRIES:
                break
            time.sleep(min(wait, 2.0) * self.rng.uniform(0.5, 1.5))
        with self.outcome.lock:
            self.outcome.calls.append((what, status))
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None
