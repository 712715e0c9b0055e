"""Routing decisions (分流): category from the classifier (with the citizen's hint as evidence), unit from
taxonomy.yaml (the first unit of a category leads; `township` means the resolved township), township from
the place where the dispute arises (domain/triage/township.py: the address, then each place the description
names and its role). Below the threshold, with a township-led category and no township, or with two townships
still plausible, the case waits for a clerk; the routing clock keeps running meanwhile."""

from __future__ import annotations

from domain.models import CaseIntake, CategorySuggestion, RoutingDecision, TownshipSuggestion
from domain.taxonomy import TOWNSHIP_LED, Taxonomy
from domain.triage.model import TriageModel
from domain.triage.township import Placement, locate

# A citizen's own choice of category counts as evidence, not as the answer: people pick 其他 or a near
# category often. Its prior odds against each other category:
HINT_WEIGHT = 4.0


def combine_hint(all_probs: dict[str, float], hint: str | None) -> list[CategorySuggestion]:
    if hint and hint in all_probs:
        weighted = {c: p * (HINT_WEIGHT if c == hint else 1.0) for c, p in all_probs.items()}
        total = sum(weighted.values())
        probs = {c: p / total for c, p in weighted.items()}
    else:
        probs = all_probs
    ranked = sorted(probs.items(), key=lambda kv: -kv[1])[:3]
    return [CategorySuggestion(category=c, confidence=round(p, 4)) for c, p in ranked]


def decide(taxonomy: Taxonomy, model: TriageModel, intake: CaseIntake, threshold: float) -> RoutingDecision:
    prediction = model.predict(intake.description, top=len(model.classes))
    all_probs = {s.category: s.confidence for s in prediction.suggestions}
    if intake.channel == "clerk" and intake.category_hint:
        # A clerk who names the category at the window has routed the case in person.
        suggestions = [CategorySuggestion(category=intake.category_hint, confidence=1.0)]
        reason = f"受理员登记类别“{taxonomy.category_zh(intake.category_hint)}”"
    else:
        suggestions = combine_hint(all_probs, intake.category_hint)
        words = "、".join(prediction.reasons[:3])
        reason = f"模型判断为“{taxonomy.category_zh(suggestions[0].category)}”" + (
            f"（依据：{words}）" if words else ""
        )
        if intake.category_hint:
            reason += f"；群众选择“{taxonomy.category_zh(intake.category_hint)}”"
    top = suggestions[0]
    category = taxonomy.category(top.category)
    assert category is not None
    place: Placement | None = None
    township: str | None
    if intake.township_hint:  # the citizen chose the township of the matter (事发乡镇) on the form
        township = intake.township_hint
    else:
        place = locate(taxonomy, intake.address, intake.description, category=top.category)
        township = place.township
        if place.mentions:
            reason += "；" + place.reason
    base = dict(
        category=top.category,
        confidence=top.confidence,
        suggestions=suggestions,
        model=model.fingerprint,
        needs_team=category.team,
        team_units=category.team_units,
        township_confidence=place.confidence if place else 1.0,
        township_suggestions=_township_suggestions(place),
    )
    if top.confidence < threshold:
        return RoutingDecision(
            **base,
            unit=None,
            township=township,
            auto=False,
            reason=f"{reason}；置信度 {top.confidence:.2f} 低于 {threshold:.2f}，转人工分流",
        )
    if place is not None and not place.confident:
        # two townships (or a name spanning several) remain plausible: a person picks, never a coin toss
        return RoutingDecision(**base, unit=None, township=township, auto=False, reason=reason)
    if category.lead_unit == TOWNSHIP_LED and township is None:
        return RoutingDecision(
            **base, unit=None, township=None, auto=False, reason=f"{reason}；属地乡镇不明，转人工分流"
        )
    return RoutingDecision(**base, unit=category.lead_unit, township=township, auto=True, reason=reason)


def _township_suggestions(place: Placement | None) -> list[TownshipSuggestion]:
    if place is None:
        return []
    return [
        TownshipSuggestion(
            township=c.township,
            mention=c.mention.name,
            role=c.mention.role,
            score=c.mention.score,
            probability=c.mention.probability,
        )
        for c in place.candidates
    ]
