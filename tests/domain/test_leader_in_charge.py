"""The county leader in charge of a case (taxonomy.yaml's `county_leaders`): the one over its lead department; for
a township-led case, or a department nobody is listed for, the one who keeps in touch with its township."""

from __future__ import annotations

from domain.taxonomy import CountyLeader, Taxonomy, get_taxonomy


def test_the_demo_county_lists_its_leaders():
    tx = get_taxonomy()
    assert [leader.username for leader in tx.county_leaders] == [
        "cl.zhengfa",
        "cl.shehui",
        "cl.chengjian",
        "cl.nongye",
        "cl.anquan",
    ]
    every_township = {t for leader in tx.county_leaders for t in leader.townships}
    assert every_township == {t.code for t in tx.townships}  # each township has a leader in touch with it


def test_leader_in_charge():
    tx = get_taxonomy()

    def who(unit, township):
        found = tx.leader_in_charge(unit, township)
        return found.username if found else None

    assert who("renshe", "fuying") == "cl.shehui"  # the department's leader, not the township's
    assert who("fayuan", None) == "cl.zhengfa"
    assert who("township", "xiage") == "cl.chengjian"  # township-led: the township's
    assert who(None, "zhuxi") == "cl.nongye"  # not routed yet, the township known
    assert who(None, None) is None and who("township", None) is None
    assert tx.leader_in_charge("nongye", None).zh == "副县长（农业农村）"


def test_a_department_nobody_is_listed_for_falls_back_to_the_township():
    tx = Taxonomy(
        dispute_categories=[],
        units=[],
        townships=[],
        county_leaders=[CountyLeader(username="cl.a", zh="副县长", units=["x"], townships=["t1"])],
    )
    assert tx.leader_in_charge("y", "t1").username == "cl.a"
    assert tx.leader_in_charge("y", "t2") is None
    assert Taxonomy(dispute_categories=[], units=[], townships=[]).leader_in_charge("x", "t1") is None
