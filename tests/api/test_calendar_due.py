"""`GET /api/v1/calendar/due` (the contract's "Calendar, pausing and extensions"): working days by the 2026
schedule, natural days, a start without an offset read as China time, an unknown year flagged, staff only, and
the contract's error shape for a bad start, duration or days. The board says which years the calendar knows."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.conftest import assert_error

DUE = "/api/v1/calendar/due"


async def test_working_and_natural_days(api):
    headers = await api.auth("clerk")
    # Thu 2026-02-12 10:00 China time, seven working days: Sat 2.14 (worked), 2.24–2.27, Sat 2.28 (worked).
    r = await api.get(DUE, params={"start": "2026-02-12T10:00", "duration": "P7D", "days": "working"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert datetime.fromisoformat(body["due_at"]) == datetime(2026, 2, 28, 2, 0, tzinfo=UTC)
    assert body["calendar_known"] is True

    r = await api.get(DUE, params={"start": "2026-02-12T02:00:00Z", "duration": "P7D", "days": "natural"},
                      headers=headers)  # fmt: skip
    assert datetime.fromisoformat(r.json()["due_at"]) == datetime(2026, 2, 19, 2, 0, tzinfo=UTC)
    assert r.json()["calendar_known"] is True

    # Minutes stay minutes, whatever the counting.
    r = await api.get(DUE, params={"start": "2026-10-01T09:00+08:00", "duration": "PT3M", "days": "working"},
                      headers=headers)  # fmt: skip
    assert datetime.fromisoformat(r.json()["due_at"]) == datetime(2026, 10, 1, 1, 3, tzinfo=UTC)


async def test_a_year_without_a_schedule_is_flagged(api):
    headers = await api.auth("renshe.leader")
    r = await api.get(DUE, params={"start": "2026-12-28T09:00", "duration": "P7D", "days": "working"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["calendar_known"] is False and body["unknown_years"] == [2027]
    assert datetime.fromisoformat(body["due_at"]) == datetime(2027, 1, 6, 1, 0, tzinfo=UTC)  # Monday–Friday assumed


async def test_bad_input_has_the_contracts_error_shape(api):
    headers = await api.auth("supervisor")
    ok = {"start": "2026-03-02T09:00", "duration": "P7D", "days": "working"}
    for over, code in [
        ({"start": "yesterday"}, "invalid_start"),
        ({"start": ""}, "invalid_start"),
        ({"duration": "7 days"}, "invalid_duration"),
        ({"duration": "P1M"}, "invalid_duration"),  # a month is no fixed number of days
        ({"duration": "-P1D"}, "invalid_duration"),
        ({"duration": "PT0S"}, "invalid_duration"),
        ({"duration": "P99999D"}, "invalid_duration"),
        ({"days": "weekdays"}, "invalid_days"),
    ]:
        assert_error(await api.get(DUE, params={**ok, **over}, headers=headers), 422, code)
    params = dict(ok)
    del params["days"]
    assert_error(await api.get(DUE, params=params, headers=headers), 422, "invalid_days")


async def test_staff_only(api):
    params = {"start": "2026-03-02T09:00", "duration": "P7D", "days": "working"}
    assert_error(await api.get(DUE, params=params), 401)


async def test_the_board_says_which_years_are_known(api):
    r = await api.get("/api/v1/supervision/board", headers=await api.auth("supervisor"))
    assert r.status_code == 200, r.text
    years = r.json()["calendar"]["years"]
    today = datetime.now(UTC).date()
    assert years[0]["year"] >= today.year - 1 and all({"year", "known", "source"} <= set(y) for y in years)
