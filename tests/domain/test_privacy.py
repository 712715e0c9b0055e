"""The one masking rule (domain/privacy.py: mask_detail, mask_text), the messages that use it, and who may see a
citizen's full phone (domain/case_flow.py: may_reveal_phone)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import fast_levels


def test_mask_detail_masks_every_string_and_phone_fields():
    from domain.privacy import mask_detail

    detail = {
        "text": "电话13912345678，身份证33102219850101123X",
        "citizen_phone": "13800001234",
        "members": ["a", "b13700009999"],
        "score": 5,
        "nested": {"reason": "打 13600001111"},
    }
    out = mask_detail(detail)
    assert out["text"] == "电话139****5678，身份证331022********123X"
    assert out["citizen_phone"] == "138****1234"
    assert out["members"] == ["a", "b137****9999"] and out["score"] == 5
    assert out["nested"]["reason"] == "打 136****1111"


def test_messages_mask_what_the_citizen_typed():
    from domain.messages import render
    from domain.taxonomy import get_taxonomy

    text = render("citizen_updated", "XJ-1", {"text": "老板电话 13700009999"}, get_taxonomy())
    assert "137****9999" in text and "13700009999" not in text
    assert "13900001111" not in render("urged", "XJ-1", {"note": "回电 13900001111", "count": 1}, get_taxonomy())


def test_who_may_see_the_full_phone():
    from domain.case_flow import may_reveal_phone
    from domain.models import Actor, CaseIntake, CaseState, Role

    s = CaseState(
        case_id="c1",
        case_no="MT-1",
        received_at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        intake_by="citizen",
        levels=fast_levels(),
        intake=CaseIntake(description="x", citizen_name="李四", citizen_phone="13900000000"),
        unit="renshe",
        handler=Actor(username="renshe.mediator", role=Role.mediator, unit="renshe"),
    )
    yes = [
        Actor(username="renshe.mediator", role=Role.mediator, unit="renshe"),
        Actor(username="renshe.leader", role=Role.leader, unit="renshe"),
        Actor(username="clerk", role=Role.clerk),
    ]
    no = [
        Actor(username="renshe.other", role=Role.mediator, unit="renshe"),
        Actor(username="fulian.leader", role=Role.leader, unit="fulian"),
        Actor(username="supervisor", role=Role.supervisor),
        Actor(username="auditor", role=Role.auditor),
        Actor(username="citizen", role=Role.citizen),
    ]
    assert all(may_reveal_phone(a, s) for a in yes)
    assert not any(may_reveal_phone(a, s) for a in no)
