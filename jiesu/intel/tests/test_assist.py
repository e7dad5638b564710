"""The assistant through the real pages and services: proposals in the intake console, the gazetteer,
the solution library on the ticket page, model versions, and the worker's retraining."""

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult as TaskResult

from jiesu.intel import services
from jiesu.intel.classifier import TextModel
from jiesu.intel.models import ModelActivation, ModelKind, TextModelVersion
from jiesu.intel.tests.synthetic import measured_category_model, sample_call
from jiesu.lib.errors import InvalidInput
from jiesu.lib.masking import mask_text
from jiesu.operations.worker import run_tasks, tick
from jiesu.orgs.models import OrgUnit, PlaceHint, UnitKind
from jiesu.orgs.selectors import resolve_place
from jiesu.testing.world import World
from jiesu.tickets import services as tickets
from jiesu.tickets.tests.helpers import new_ticket, ticket_in


def assist(client: Client, **params: str) -> str:
    return client.get("/intake/assist/", params).content.decode()


# --- the classifier itself ----------------------------------------------------------------------------------
def test_a_class_is_known_by_its_name_before_anyone_labels_it(tmp_path: Path) -> None:
    tax = {
        "heating": ["暖气不热", "室温不达标", "供暖"],
        "garbage": ["垃圾清运", "垃圾桶满溢"],
        "water": ["停水", "水压低"],
    }
    model = TextModel().fit([], [], taxonomy=tax)
    assert model.top([("家里暖气不热", "室温只有十五度")])[0][0][0] == "heating"
    label, p, terms = model.propose(("小区停水", "从早上开始停水了"))[0]
    assert label == "water" and 0 < p <= 1 and terms
    model.save(tmp_path / "m.joblib")
    again = TextModel.load(tmp_path / "m.joblib")
    doc = [("垃圾桶满了", "没人来清运")]
    assert (again.predict_proba(doc) == model.predict_proba(doc)).all()


# --- intake console -----------------------------------------------------------------------------------------
def test_console_proposes_a_category_and_fills_it_only_when_sure(world: World, client: Client, settings: Any) -> None:
    measured_category_model()  # a model measured on held-out rows (an unmeasured one never fills the field)
    client.force_login(world.operator)
    settings.INTEL_AUTO_APPLY_CONFIDENCE = 0.0
    page = assist(client, **dict(zip(("title", "content"), sample_call("020401"), strict=True)))
    assert "建议分类" in page and 'data-value="020401"' in page and "data-autofill" in page and "依据" in page
    settings.INTEL_AUTO_APPLY_CONFIDENCE = 1.01
    page = assist(client, **dict(zip(("title", "content"), sample_call("020401"), strict=True)))
    assert "020401" in page and "data-autofill" not in page.split("建议分类")[1].split("</section>")[0]
    assert "置信度不足" in page


def test_console_proposes_the_unit_from_the_catalogue(world: World, client: Client) -> None:
    client.force_login(world.operator)
    page = assist(client, category_code="020401", title="暖气不热", address="朝阳区建外街道光华路1号")
    assert "建议承办单位" in page and "北京市热力集团有限责任公司" in page and "派单目录" in page


def closed_heating(world: World, title: str) -> Any:
    t = new_ticket(world, title=title, content="家里暖气片冰凉，室温不达标", category_code="020401")
    t = tickets.dispatch(world.dispatcher, t.pk)
    tickets.accept(world.heat_handler, t.pk)
    tickets.reply(world.heat_handler, t.pk, "已派人上门排气，室温恢复到20度。")
    return tickets.record_callback(world.agent, t.pk, contacted=True, resolution="solved", satisfaction="satisfied")


def test_router_learns_units_from_dispatch_history(world: World, client: Client) -> None:
    with pytest.raises(InvalidInput, match="少于两个"):
        services.train_router()  # nothing closed yet
    ticket_in(world, "closed")  # led by 建外街道
    closed_heating(world, "暖气不热")
    row = services.train_router()
    assert row.is_active and row.classes == 2 and row.labelled == 2
    # a category the catalogue has no rule for (010104 has one, so ask without a category): the router speaks
    client.force_login(world.operator)
    page = assist(client, title="暖气片冰凉", content="室温不达标，暖气不热", address="朝阳区建外街道光华路1号")
    units = page.split("建议承办单位")[1]
    assert "北京市热力集团有限责任公司" in units and "根据派单历史学习" in units


def test_duplicates_show_with_their_evidence(world: World, client: Client) -> None:
    earlier = new_ticket(
        world,
        title="光华路小区南门垃圾桶满溢",
        content="南门垃圾桶满溢三天没人清运，臭味很大",
        requester_phone="13700002222",
    )
    other = new_ticket(world, title="路灯不亮", content="光华路上的路灯坏了", requester_phone="13700003333")
    client.force_login(world.operator)
    page = assist(
        client,
        title="南门垃圾桶满了",
        content="光华路小区南门垃圾桶满溢没人清运",
        requester_phone="13700002222",
        address="朝阳区建外街道光华路1号",
    )
    found = page.split("可能重复的在办工单")[1]
    assert earlier.number in found and other.number not in found and "同一来电人" in found


# --- gazetteer ----------------------------------------------------------------------------------------------
def test_gazetteer_short_names_hints_communities_and_ambiguity(world: World) -> None:
    jianwai = OrgUnit.objects.get(code="110105001")
    [only] = resolve_place("朝阳建外光华路")
    assert only.street == jianwai and only.district.name == "朝阳区"
    PlaceHint.objects.get_or_create(text="国贸", unit=jianwai)  # the demo reference seeds it too
    [only] = resolve_place("国贸桥东北角井盖缺失")
    assert only.street == jianwai and only.matched == "国贸"
    community = OrgUnit.objects.create(code="110105001001", name="光华里社区", kind=UnitKind.COMMUNITY, parent=jianwai)
    [only] = resolve_place("光华里社区3号楼")
    assert only.community == community and only.street == jianwai
    tiantongyuan = OrgUnit.objects.filter(name__startswith="天通苑").order_by("code")
    for unit in tiantongyuan:
        PlaceHint.objects.get_or_create(text="天通苑", unit=unit)
    places = resolve_place("天通苑小区门口有积水")
    assert {p.street for p in places} == set(tiantongyuan) and len(places) == 2  # reported, not guessed


# --- solution library ---------------------------------------------------------------------------------------
def test_handler_sees_similar_solved_cases_and_a_reply_draft(world: World, client: Client) -> None:
    closed = ticket_in(world, "closed", title="光华路垃圾桶又满了", content="光华路1号垃圾桶满溢，已经三天没人清运")
    current = ticket_in(world, "accepted", title="光华路垃圾桶满溢问题", content="光华路垃圾桶满溢没人清运，臭味大")
    client.force_login(world.jw_handler)
    page = client.get(f"/tickets/{current.pk}/").content.decode()
    library = page.split('id="library"')[1]
    assert "诉求解决智慧库" in library and closed.title in library and "满意" in library
    assert "您好！关于您反映的“光华路垃圾桶满溢”问题，" in library  # not "…问题”问题" and "填入答复" in library
    # callers never appear in the library
    assert "13812345678" not in library and "张三" not in library


def test_numbers_in_free_text_are_masked() -> None:
    assert mask_text("请联系13812345678或身份证110105199001011234") == "请联系*******5678或身份证**************1234"


# --- versions, activation, worker --------------------------------------------------------------------------
def test_versions_are_switchable_and_each_switch_is_recorded(world: World, capsys: Any) -> None:
    first = services.train_category_model()
    second = services.train_category_model()
    assert TextModelVersion.objects.get(is_active=True, kind=ModelKind.CATEGORY) == second
    call_command("nlp", "activate", "category", first.version)
    assert TextModelVersion.objects.get(is_active=True, kind=ModelKind.CATEGORY) == first
    last = ModelActivation.objects.first()
    assert last.from_version == second and last.to_version == first
    call_command("nlp", "models")
    assert f"* category  {first.version}" in capsys.readouterr().out
    with pytest.raises(Exception, match="没有 category 模型版本"):
        call_command("nlp", "activate", "category", "nope")


def test_worker_retrains_when_enough_tickets_closed(world: World, settings: Any) -> None:
    settings.INTEL_RETRAIN_AFTER = 2
    ticket_in(world, "closed")
    tick()
    run_tasks()
    assert not TextModelVersion.objects.exists()  # one closed: not yet
    ticket_in(world, "closed", title="垃圾没人清运")
    tick()  # the worker enqueues the retraining task; the task worker runs it
    assert TaskResult.objects.filter(task_path="jiesu.intel.tasks.retrain_models", status="READY").count() == 1
    assert not TextModelVersion.objects.exists()
    run_tasks()
    assert TextModelVersion.objects.filter(kind=ModelKind.CATEGORY, is_active=True).count() == 1
    tick()
    run_tasks()
    assert TextModelVersion.objects.filter(kind=ModelKind.CATEGORY).count() == 1  # nothing new closed since
