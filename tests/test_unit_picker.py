"""Units are picked by name (issue 13, item 6): a name typed with or without accents is the unit, a name
that fits none is said so in Vietnamese and the form comes back as it was sent (no 404, nothing lost)."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from engine.core.errors import InvalidInput
from engine.read import unit_choices
from engine.regulation.records import TaskCoordinator, TrackedTask
from tests.helpers import csrf_token, register_task, sign_in

DOCUMENT = {"number_symbol": "88/KH-UBND", "issued_on": "2025-04-21", "doc_type": "ke_hoach", "issuer": "UBND tỉnh",
            "signer": "Phó Chủ tịch", "summary": "Kế hoạch số hoá", "content_0": "Số hoá hồ sơ đất đai",
            "deadline_0": "2025-06-30"}


def _register(client, **fields):
    return client.post("/office/documents/new", data={
        "csrf_token": csrf_token(client, "/office/documents/new"), **DOCUMENT, **fields})


def _offered(page: str) -> list[str]:
    block = page.split('<datalist id="unit-choices"')[1].split("</datalist>")[0]
    return [html.unescape(name) for name in re.findall(r"<option value=\"[^\"]*\">([^<]*)</option>", block)]


def _tasks(ctx):
    with ctx.unit_of_work(readonly=True) as session:
        rows = session.execute(select(TrackedTask.id, TrackedTask.lead_unit_id)).all()
        coordinators = session.execute(select(TaskCoordinator.task_id, TaskCoordinator.unit_id)).all()
        codes = dict(session.execute(select(unit_choices.Unit.id, unit_choices.Unit.code)).all())
    return {codes[lead]: sorted(codes[u] for t, u in coordinators if t == task) for task, lead in rows}


def test_a_name_without_accents_or_case_is_the_unit_and_a_name_that_fits_none_is_refused(ctx):
    choices = unit_choices.unit_choices(ctx)
    assert unit_choices.code_for(choices, "so tu PHAP") == "so-tu-phap"
    assert unit_choices.code_for(choices, "  Sở   Tư pháp ") == "so-tu-phap"
    assert unit_choices.code_for(choices, "so-tai-chinh") == "so-tai-chinh"  # a code is still a code
    with pytest.raises(InvalidInput) as unknown:
        unit_choices.code_for(choices, "Sở Không Có")
    assert "Sở Không Có" in unknown.value.text("vi") and "danh sách gợi ý" in unknown.value.text("vi")
    assert [c.code for c in unit_choices.search(choices, "dat tai nguyen")] == []
    assert [c.code for c in unit_choices.search(choices, "tai nguyen moi")] == ["so-tai-nguyen-moi-truong"]
    same = [*choices, unit_choices.UnitChoice("so-tu-phap-2", "Sở Tư Pháp", choices[0].kind)]
    with pytest.raises(InvalidInput) as twice:
        unit_choices.code_for(same, "so tu phap")
    assert twice.value.key == "unit_name_ambiguous"


def test_delegation_offers_only_active_units_below_the_lead_unit(ctx):
    below = [c.code for c in unit_choices.unit_choices(ctx, below="huyen-ba-tri")]
    assert sorted(below) == ["batri-phong-nnptnt", "tt-ba-tri", "xa-tan-xuan-ba-tri"]
    assert "huyen-ba-tri" not in below
    names = [c.name for c in unit_choices.unit_choices(ctx, within=frozenset({"so-y-te", "so-tu-phap"}))]
    assert names == ["Sở Tư pháp", "Sở Y tế"]  # by name, accents ignored


def test_the_office_registers_tasks_naming_units_as_typed_without_the_script(client, ctx):
    sign_in(client, "cv.hoa")
    form = client.get("/office/documents/new").get_data(as_text=True)
    assert "Sở Tư pháp" in _offered(form) and 'name="lead_unit_0_name"' in form
    sent = _register(client, lead_unit_0_name="so tai nguyen va moi truong",
                     coordinators_0_name="Sở Tư pháp; ubnd huyen ba tri")
    assert sent.status_code == 303
    assert _tasks(ctx) == {"so-tai-nguyen-moi-truong": ["huyen-ba-tri", "so-tu-phap"]}


def test_the_picker_s_codes_are_what_the_form_sends(client, ctx):
    sign_in(client, "cv.hoa")
    sent = _register(client, lead_unit_0="so-y-te", lead_unit_0_name="Sở Y tế", coordinators_0="so-tu-phap,so-noi-vu",
                     coordinators_0_name="Sở Tư pháp; Sở Nội vụ; ")
    assert sent.status_code == 303
    assert _tasks(ctx) == {"so-y-te": ["so-noi-vu", "so-tu-phap"]}


@pytest.mark.parametrize("fields", [{"lead_unit_0_name": "Sở Không Có"}, {"lead_unit_0": "so-khong-co"},
                                    {"lead_unit_0_name": "Sở Y tế", "coordinators_0_name": "Sở Tư pháp; Sở Ma"},
                                    {}])
def test_a_unit_that_is_none_gives_a_vietnamese_message_and_the_form_back(client, ctx, fields):
    sign_in(client, "cv.hoa")
    refused = _register(client, **fields)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "đơn vị" in page and "no unit" not in page.lower()
    assert "Số hoá hồ sơ đất đai" in page and "Kế hoạch số hoá" in page and "88/KH-UBND" in page
    for typed in fields.values():
        assert f'value="{typed}"' in page  # what was typed is still there
    assert _tasks(ctx) == {}


def test_a_unit_delegates_a_part_to_a_commune_named_without_accents(client, shipped):
    registered = register_task(shipped, lead_unit="huyen-ba-tri", number_symbol="812/QĐ-UBND",
                               content="Kiểm tra đê bao", deadline=date(2025, 6, 30))
    sign_in(client, "dm.batri")
    page = client.get(f"/office/tasks/{registered.task_id}").get_data(as_text=True)
    assert _offered(page) == ["Phòng Nông nghiệp và Phát triển nông thôn huyện Ba Tri",
                              "UBND thị trấn Ba Tri (huyện Ba Tri)", "UBND xã Tân Xuân (huyện Ba Tri)"]
    url = f"/office/tasks/{registered.task_id}/delegate"
    token = csrf_token(client, f"/office/tasks/{registered.task_id}")
    refused = client.post(url, data={"csrf_token": token, "unit_name": "Sở Tư pháp", "content": "Phần đê xã",
                                     "deadline": "2025-06-20"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Sở Tư pháp" in text and 'value="Phần đê xã"' in text
    done = client.post(url, data={"csrf_token": token, "unit_name": "ubnd xa tan xuan (huyen ba tri)",
                                  "content": "Phần đê xã", "deadline": "2025-06-20"})
    assert done.status_code == 303
    assert "xa-tan-xuan-ba-tri" in _tasks(shipped)


def test_the_task_list_is_filtered_by_a_unit_s_name(client, shipped):
    register_task(shipped, lead_unit="so-y-te", number_symbol="813/QĐ-UBND", content="Việc của Sở Y tế")
    register_task(shipped, lead_unit="so-tu-phap", number_symbol="814/QĐ-UBND", content="Việc của Sở Tư pháp")
    sign_in(client, "cv.hoa")
    page = client.get("/office/tasks?unit_name=so+y+te").get_data(as_text=True)
    assert "Việc của Sở Y tế" in page and "Việc của Sở Tư pháp" not in page
    unknown = client.get("/office/tasks?unit_name=S%E1%BB%9F+Ma").get_data(as_text=True)
    assert "Sở Ma" in unknown and "Việc của Sở Tư pháp" in unknown  # said so, and not filtered by it


def test_the_inbox_is_filtered_by_a_unit_s_name_among_the_units_its_reader_acts_for(client, shipped):
    register_task(shipped, lead_unit="huyen-ba-tri", number_symbol="816/QĐ-UBND", content="Việc của huyện Ba Tri")
    register_task(shipped, lead_unit="tt-ba-tri", number_symbol="817/QĐ-UBND", content="Việc của thị trấn Ba Tri")
    sign_in(client, "dm.batri")
    everything = client.get("/inbox").get_data(as_text=True)
    assert "Việc của huyện Ba Tri" in everything and "Việc của thị trấn Ba Tri" in everything
    assert sorted(_offered(everything)) == sorted(["UBND huyện Ba Tri", "UBND thị trấn Ba Tri (huyện Ba Tri)",
                                                   "UBND xã Tân Xuân (huyện Ba Tri)",
                                                   "Phòng Nông nghiệp và Phát triển nông thôn huyện Ba Tri"])
    page = client.get("/inbox?unit_name=ubnd+thi+tran+ba+tri+(huyen+ba+tri)").get_data(as_text=True)
    assert "Việc của thị trấn Ba Tri" in page and "Việc của huyện Ba Tri" not in page
    unknown = client.get("/inbox?unit_name=S%E1%BB%9F+T%C6%B0+ph%C3%A1p").get_data(as_text=True)  # not its unit
    assert "Sở Tư pháp" in unknown and "Việc của huyện Ba Tri" in unknown  # said so, and not filtered by it
