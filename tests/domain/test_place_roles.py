"""The place-role model: what it learns from, what it never sees, and what it changes in a placement."""

from __future__ import annotations

from domain.taxonomy import get_taxonomy
from domain.triage import place_roles
from domain.triage.data import read_jsonl
from domain.triage.evaluation import role_models
from domain.triage.township import locate

TX = get_taxonomy()


def test_the_blind_sets_never_train_it():
    files = place_roles.training_files()
    assert files and not [f for f in files if f.startswith(place_roles.BLIND_PREFIX)]
    blind = sorted(p.name for p in place_roles.PLACES_DIR.glob(f"{place_roles.BLIND_PREFIX}*.jsonl"))
    assert blind, "the blind sets the figures in docs/benchmarks.md come from"
    trained = {e.id for e in place_roles.training_examples(TX)}
    for name in blind:
        assert not trained & {e.id for e in read_jsonl(place_roles.PLACES_DIR / name, TX)}


def test_it_is_trained_once_per_process_and_the_same_every_time():
    model = place_roles.shipped_model(TX)
    assert model is place_roles.shipped_model(TX)
    assert model.trained_on > 600  # texts naming two or more places
    again = place_roles.train(TX, place_roles.training_examples(TX))
    rows = [place_roles.features(m.view(), "labor", i, 2) for i, m in enumerate(locate(TX, _TWO_TOWNS).mentions)]
    assert model.logits(rows) == again.logits(rows)


_TWO_TOWNS = "我是下各镇人，在福应街道一个装修公司干了半年，老板欠我九千块工资不给"


def test_a_source_near_the_home_is_where_the_pollution_is_not_the_workplace():
    # the cues alone read 家在 as a home and cannot choose; the model has learnt that for pollution the home
    # village named with the source is the place
    text = "我在白塔镇上班，家在皤滩乡吕前村，村口那条溪边去年开了个砂场，挖机日夜弗停，灰尘大得门都弗敢开"
    cues = locate(TX, text, category="environment", roles=False)
    assert not cues.confident
    p = locate(TX, text, category="environment")
    assert (p.township, p.confident) == ("panta", True)
    assert "皤滩乡吕前村" in p.reason and "事发地可能性" in p.reason


def test_the_reason_names_each_mention_and_how_likely_it_is_the_place():
    p = locate(TX, _TWO_TOWNS, category="labor")
    assert (p.township, p.confident) == ("fuying", True)
    assert [m.probability is not None for m in p.mentions] == [True, True]
    dispute, person = sorted(p.mentions, key=lambda m: -(m.probability or 0))
    assert (dispute.name, dispute.role, person.name, person.role) == ("福应街道", "dispute", "下各镇", "person")
    assert p.reason.startswith("属地福应街道：") and "另提及下各镇" in p.reason


def test_when_both_places_stay_likely_a_person_decides_with_both_suggested():
    text = "我住在官路镇，在白塔镇开了个小饭店，下各镇来的一个人吃饭打架把我店里东西砸了"
    p = locate(TX, text, category="injury_damage")
    assert not p.confident and p.confidence <= 0.6
    assert {"baita", "xiage"} <= set(p.suggested)
    assert p.reason.startswith("属地不明") and p.reason.endswith("转人工分流")


def test_one_township_named_is_placed_by_the_cues_alone():
    p = locate(TX, "白塔镇高迁村两家为宅基地界址吵了三年", category="housing_homestead")
    assert (p.township, p.confident) == ("baita", True)
    assert all(m.probability is None for m in p.mentions)


def test_an_address_field_outweighs_what_the_description_suggests():
    p = locate(TX, "田市镇水阁村", "我在白塔镇上班，家里隔壁养猪场臭得要命", category="environment")
    assert (p.township, p.confident) == ("tianshi", True)
    assert "事发地址栏" in p.reason


def test_a_file_that_trains_the_model_is_evaluated_by_one_trained_without_it():
    data = read_jsonl(place_roles.PLACES_DIR / "train.jsonl", TX)
    models = role_models(TX, data)
    assert models["train.jsonl"] is not place_roles.shipped_model(TX)
    assert models["train.jsonl"].trained_on < place_roles.shipped_model(TX).trained_on
    # several training files in one run: each placed by a model that never saw it, and only it
    both = role_models(TX, data + read_jsonl(place_roles.PLACES_DIR / "heldout.jsonl", TX))
    assert both["train.jsonl"].trained_on == models["train.jsonl"].trained_on
    assert both["heldout.jsonl"] is not both["train.jsonl"]
    blind = read_jsonl(place_roles.PLACES_DIR / "blind_m.jsonl", TX)
    assert role_models(TX, blind)["blind_m.jsonl"] is place_roles.shipped_model(TX)
