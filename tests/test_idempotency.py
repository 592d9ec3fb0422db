"""A write sent again with the same Idempotency-Key gets the first answer and is not written twice
(engine/core/idempotency.py, web/idempotency.py): a client whose connection dropped can always resend."""
from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest

from engine.app.worker import run_worker
from engine.core import idempotency
from engine.core.errors import Conflict, Unavailable
from engine.regulation import api_tokens


@pytest.fixture
def api(ctx, app, registered_task):
    tokens = {u: api_tokens.issue(ctx, u, "test", "admin").token for u in ("dm.sotuphap", "dm.batri", "dm.chauthanh")}

    def call(method, path, user="dm.sotuphap", key=None, **kwargs):
        headers = {"Authorization": f"Bearer {tokens[user]}", **({"Idempotency-Key": key} if key else {})}
        return app.test_client().open(path, method=method, headers=headers, **kwargs)

    registered_task(content="Rà soát văn bản")
    call.task_id = call("GET", "/api/tracked-tasks").get_json()["items"][0]["id"]
    return call


def _progress(api, key=None, work="Đã làm một nửa", user="dm.sotuphap"):
    return api("POST", f"/api/tracked-tasks/{api.task_id}/progress", user, key,
               json={"state": "in_progress", "work_done": work})


def _updates(api) -> list[str]:
    return [u["work_done"] for u in api("GET", f"/api/tracked-tasks/{api.task_id}").get_json()["updates"]]


def test_a_write_sent_again_with_its_key_gets_the_first_answer_and_is_written_once(api):
    first = _progress(api, "k-1")
    again = _progress(api, "k-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _updates(api) == ["Đã làm một nửa"]
    assert _progress(api, "k-2").status_code == 201 and len(_updates(api)) == 2   # a new key: a new write
    assert _progress(api).status_code == 201 and len(_updates(api)) == 3          # no key: as before


def test_a_key_used_for_another_request_is_refused_and_nothing_is_written(api):
    assert _progress(api, "k-1").status_code == 201
    reused = _progress(api, "k-1", work="Khác")
    assert reused.status_code == 422 and "Idempotency-Key" in reused.get_json()["error"]["message"]
    assert _updates(api) == ["Đã làm một nửa"]


def test_keys_are_per_user(api):
    # Two districts report the department late with the same key: two users, two requests.
    for user in ("dm.batri", "dm.chauthanh"):
        filed = api("POST", "/api/feedback", user, "k-1", json={"task_id": api.task_id, "content": "Chậm"})
        assert filed.status_code == 201 and "Idempotent-Replayed" not in filed.headers
    assert api("GET", f"/api/tracked-tasks/{api.task_id}").get_json()["feedback_count"] == 2


@pytest.mark.parametrize("key", ["có dấu", "a b", "x" * 201])
def test_a_malformed_key_is_refused_before_anything_is_written(api, key):
    response = _progress(api, key)
    assert response.status_code == 422 and "Idempotency-Key" in response.get_json()["error"]["message"]
    assert _updates(api) == []


def test_a_refused_request_keeps_no_key_so_the_corrected_one_goes_through(api):
    refused = api("POST", f"/api/tracked-tasks/{api.task_id}/progress", key="k-1", json={"state": "in_progress"})
    assert refused.status_code == 422  # work_done missing: nothing written, the key not taken
    assert _progress(api, "k-1").status_code == 201 and len(_updates(api)) == 1


def test_when_the_answer_was_lost_after_the_write_the_resend_is_told_so_not_written_again(api, monkeypatch):
    def database_away(*_args):
        raise Unavailable(safe_to_retry=True)

    monkeypatch.setattr(idempotency, "answered", database_away)  # the worker's answer is lost
    assert _progress(api, "k-1").status_code == 201
    monkeypatch.undo()
    again = _progress(api, "k-1")
    assert again.status_code == 409 and "Idempotency-Key" in again.get_json()["error"]["message"]
    assert _updates(api) == ["Đã làm một nửa"]


def test_a_completion_sent_again_gets_its_first_answer_not_task_not_ready(api):
    task = api("GET", "/api/tasks").get_json()["items"][0]
    url = f"/api/tasks/{task['instance_id']}/{task['task_id']}/complete"
    first = api("POST", url, key="c-1", json={"data": {"decision": "accept"}})
    assert first.status_code == 200
    assert api("POST", url, key="c-1", json={"data": {"decision": "accept"}}).get_json() == first.get_json()
    assert api("POST", url, json={"data": {"decision": "accept"}}).status_code == 409  # without a key: as before


def test_two_copies_sent_at_once_write_once(api):
    start, answers = threading.Barrier(2), []

    def send():
        start.wait()
        answers.append(_progress(api, "k-1").status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) in ([201, 201], [201, 409]) and _updates(api) == ["Đã làm một nửa"]


def test_a_read_ignores_the_key_and_the_timer_worker_forgets_old_keys(api, ctx, clock):
    assert api("GET", "/api/tracked-tasks", key="k-1").status_code == 200
    assert _progress(api, "k-1").status_code == 201
    assert _progress(api, "k-1", work="Lần sau").status_code == 422          # kept: another request
    clock.set(clock.now() + idempotency.KEEP + timedelta(minutes=1))
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(ctx, stop, 0.05))
    worker.start()
    try:
        for _ in range(200):
            if idempotency.recorded(ctx, "dm.sotuphap", "k-1") is None:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(10)
    assert _progress(api, "k-1", work="Lần sau").status_code == 201          # forgotten: a new request
    assert sorted(_updates(api)) == ["Lần sau", "Đã làm một nửa"]


def test_a_copy_running_at_the_same_time_waits_for_the_first_write_then_is_refused(ctx):
    # Engine level, so the order is certain: the first copy holds its transaction open while the second
    # starts; the second waits on the key (PostgreSQL's unique index, SQLite's single writer), then is refused.
    outcome = []

    def second_copy():
        served = idempotency.serving(idempotency.Claim("dm.sotuphap", "k-1", "same", ctx.now()))
        try:
            with ctx.unit_of_work():
                outcome.append("written twice")
        except Exception as error:  # noqa: BLE001 - the test reports whatever it was
            outcome.append(error)
        finally:
            idempotency.served(served)

    first = idempotency.Claim("dm.sotuphap", "k-1", "same", ctx.now())
    served = idempotency.serving(first)
    try:
        with ctx.unit_of_work():
            thread = threading.Thread(target=second_copy)
            thread.start()
            thread.join(0.5)
            assert thread.is_alive()  # waiting for the first copy's transaction
        assert first.taken
    finally:
        idempotency.served(served)
    thread.join(10)
    [error] = outcome
    assert isinstance(error, Conflict) and error.key == "request_already_applied"


def test_a_form_with_files_sent_again_with_a_new_boundary_is_the_same_request(api):
    def send(content=b"%PDF-1.4 tiny"):
        return api("POST", f"/api/tracked-tasks/{api.task_id}/progress", key="f-1", content_type="multipart/form-data",
                   data={"work_done": "Kèm báo cáo", "files": [(io.BytesIO(content), "bao-cao.txt")]})

    first = send()
    assert first.status_code == 201, first.get_json()
    assert send().get_json() == first.get_json() and _updates(api) == ["Kèm báo cáo"]   # werkzeug: a new boundary
    assert send(b"another file").status_code == 422                                    # other contents: not the same
