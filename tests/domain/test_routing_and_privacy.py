from __future__ import annotations

import os
from pathlib import Path

import pytest

from domain import privacy, routing
from domain.models import CaseIntake
from domain.taxonomy import get_taxonomy
from domain.triage.service import load
from domain.triage.township import resolve_township

TX = get_taxonomy()


@pytest.fixture(scope="module")
def model():
    return load(Path(os.environ["WUHUAN_MODEL_DIR"]), TX)


def intake(text, **kw):
    return CaseIntake(description=text, citizen_name="李四", citizen_phone="13900000000", **kw)


def test_labour_case_from_baita_routes_to_renshe_with_a_team(model):
    d = routing.decide(TX, model, intake("白塔镇某工地包工头拖欠工人三个月工资"), threshold=0.55)
    assert (d.category, d.unit, d.township, d.needs_team, d.auto) == ("labor", "renshe", "baita", True, True)
    assert d.suggestions[0].category == "labor" and len(d.suggestions) == 3 and d.model == model.fingerprint


def test_township_by_full_or_short_name_and_address_first():
    assert resolve_township(TX, "仙居县福应街道某小区") == "fuying"
    assert resolve_township(TX, "我在田市做生意") == "tianshi"
    assert resolve_township(TX, "杭州市西湖区") is None
    assert resolve_township(TX, "白塔镇上街10号", "田市镇的人") == "baita"


def test_short_names_that_are_everyday_words_need_a_place_context():
    assert resolve_township(TX, "走了几步路就到了") is None
    assert resolve_township(TX, "上张贴了告示") is None
    assert resolve_township(TX, "我是步路的，邻居占我家的路") == "bulu"
    assert resolve_township(TX, "在上张那边") == "shangzhang"


def test_villages_the_county_lists_resolve_to_their_township():
    tx = TX.model_copy(deep=True)
    tx.townships[3].villages.append("上洋村")
    assert resolve_township(tx, "我家住上洋村") == tx.townships[3].code


def test_township_led_category_without_township_goes_to_a_person(model):
    d = routing.decide(TX, model, intake("邻居家排水沟堵了，水都流到我家院子里，说了好几次都不管"), threshold=0.3)
    assert d.category == "neighbor" and not d.auto and d.unit is None


def test_low_confidence_goes_to_a_person(model):
    d = routing.decide(TX, model, intake("你好"), threshold=0.55)
    assert not d.auto and d.unit is None and "人工" in d.reason


def test_citizens_hint_is_evidence_and_a_clerks_category_is_a_decision(model):
    text = "医院收费"
    plain = routing.decide(TX, model, intake(text), threshold=0.55)
    hinted = routing.decide(TX, model, intake(text, category_hint="medical"), threshold=0.55)
    assert hinted.suggestions[0].category == "medical"
    if plain.category == "medical":
        assert hinted.confidence >= plain.confidence
    clerk = routing.decide(
        TX, model, intake("随便说说", category_hint="consumer", channel="clerk", address="白塔镇"), threshold=0.55
    )
    assert (clerk.category, clerk.confidence, clerk.auto, clerk.township) == ("consumer", 1.0, True, "baita")


def test_masking():
    assert privacy.mask_phone("138 0000 1234") == "138****1234"
    assert privacy.mask_name("王小明") == "王**"
    assert privacy.valid_phone("+86 13800001234") and not privacy.valid_phone("12345")
    masked = privacy.mask_text("电话13800001234，身份证33102419800101123X")
    assert "13800001234" not in masked and "19800101" not in masked


def test_logs_never_carry_a_phone_in_clear(caplog):
    import logging

    from domain.logs import MaskingFilter

    log = logging.getLogger("wuhuan.test")
    log.addFilter(MaskingFilter())
    log.propagate = True
    with caplog.at_level(logging.INFO):
        log.info("citizen %s called about case %s", "13800001234", "MT-1")
    assert "13800001234" not in caplog.text and "138****1234" in caplog.text
