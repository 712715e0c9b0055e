"""Helpers of the staff console tests: signing in through the login form, and the CSRF token of a page."""

from __future__ import annotations

import html
import re

import httpx

PASSWORD = "wuhuan-demo"


def csrf_of(page: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, "the page has no form with a CSRF token"
    return html.unescape(m.group(1))


async def sign_in(http: httpx.AsyncClient, username: str) -> str:
    """Sign in with the login form; returns a CSRF token of the session (from the console's first page)."""
    r = await http.post("/staff/login", data={"username": username, "password": PASSWORD, "next": "/staff/"})
    assert r.status_code == 303, r.text
    page = await http.get("/staff/")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def step_buttons(page: str) -> set[str]:
    """The names of the steps a case page offers (its <summary class="btn…"> openers)."""
    return {html.unescape(m) for m in re.findall(r'<summary class="btn[^"]*">([^<]+)</summary>', page)}
