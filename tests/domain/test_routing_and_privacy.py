from __future__ import annotations

from domain import privacy, routing
from domain.taxonomy import get_taxonomy

TX = get_taxonomy()


def test_labour_case_from_baita_routes_to_renshe_with_a_team():
    d = routing.classify(TX, "白塔镇某工地包工头拖欠工人三个月工资", None, None, None)
    assert (d.category, d.unit, d.township, d.needs_team, d.auto) == ("labor", "renshe", "baita", True, True)


def test_township_by_full_or_short_name_and_address_first():
    assert routing.resolve_township(TX, "仙居县福应街道某小区") == "fuying"
    assert routing.resolve_township(TX, "我在田市做生意") == "tianshi"
    assert routing.resolve_township(TX, "杭州市西湖区") is None
    assert routing.resolve_township(TX, "白塔镇上街10号", "田市镇的人") == "baita"


def test_township_led_category_without_township_goes_to_a_person():
    d = routing.classify(TX, "邻居家排水沟堵了，水都流到我家院子里", None, None, None)
    assert d.category == "neighbor" and not d.auto and d.unit is None


def test_unknown_text_goes_to_a_person():
    d = routing.classify(TX, "你好", None, None, None)
    assert d.category is None and not d.auto


def test_category_hint_wins():
    d = routing.classify(TX, "随便说说", "白塔镇", "medical", None)
    assert (d.category, d.unit, d.auto) == ("medical", "weijian", True)


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
