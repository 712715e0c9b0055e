"""Every route of the JSON API × every role (and no token), generated from the app's route table and the roles
each route's `require_roles` names: without a token a staff route answers 401; a role the route does not name
answers 403 `forbidden_role`; a role it names gets past the role check (whatever the case's own rules then
say; routes whose rule lives in their service, e.g. the inspection's, answer by that rule); and nothing
answers 500."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from domain.models import Role

# One demo account per role (the leader and the mediator of the labour case's lead unit).
ACCOUNTS = {
    Role.clerk: "clerk",
    Role.supervisor: "supervisor",
    Role.auditor: "auditor",
    Role.county_leader: "county_leader",
    Role.inspector: "inspector",
    Role.leader: "renshe.leader",
    Role.mediator: "renshe.mediator",
}
# Routes anyone may call: sign-in, the citizen's side (the tracking code is the credential), intake and its
# routing preview, health; and removing one's own codec cookie.
PUBLIC = re.compile(r"^/api/v1/(auth/token|track/|health|triage/preview)|^/api/v1/cases$")
PUBLIC_CALLS = {("DELETE", "/api/v1/codec/session")}


def allowed_roles(route: APIRoute) -> set[Role] | None:
    """The roles of the route's require_roles dependency (None: any signed-in role), read from its closure."""
    found: set[Role] | None = None
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        call = dep.call
        if call is not None and getattr(call, "__qualname__", "").startswith("require_roles.<locals>"):
            cells = [c.cell_contents for c in (call.__closure__ or ())]
            roles = next(c for c in cells if isinstance(c, set))
            found = roles if found is None else found & roles
        stack.extend(dep.dependencies)
    return found


def api_routes(routes, prefix: str = "") -> list[APIRoute]:
    """The route table, flattened (FastAPI keeps an included router as one entry holding its routes)."""
    found: list[APIRoute] = []
    for r in routes:
        if isinstance(r, APIRoute):
            found.append(r if not prefix else _prefixed(r, prefix))
        elif hasattr(r, "original_router"):
            found += api_routes(r.original_router.routes, prefix + (r.include_context.prefix or ""))
    return found


def _prefixed(r: APIRoute, prefix: str) -> APIRoute:
    import copy

    c = copy.copy(r)
    c.path = prefix + r.path
    return c


def concrete(path: str, case_id: str) -> str:
    path = path.replace("{case_id}", case_id)
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_every_route_every_role(api):
    out = await api.intake()
    case_id = out["case_id"]
    await api.teamed(case_id)
    app = api.http._transport.app
    while not hasattr(app, "routes"):  # under any ASGI wrapper, the FastAPI app
        app = app.app
    routes = [r for r in api_routes(app.routes) if r.path.startswith("/api/v1/") and not PUBLIC.match(r.path)]
    assert len(routes) > 30
    headers = {role: await api.auth(user) for role, user in ACCOUNTS.items()}
    problems: list[str] = []
    checked = 0
    for route in routes:
        roles = allowed_roles(route)
        url = concrete(route.path, case_id)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            r = await api.request(method, url)
            checked += 1
            if r.status_code != 401 and (method, route.path) not in PUBLIC_CALLS:
                problems.append(f"{method} {route.path} without a token: {r.status_code}")
            for role, h in headers.items():
                r = await api.request(method, url, headers=h)
                checked += 1
                code = (
                    (r.json().get("detail") or {}).get("code")
                    if r.headers.get("content-type", "").startswith("application/json") and isinstance(r.json(), dict)
                    else None
                )
                if r.status_code >= 500:
                    problems.append(f"{method} {route.path} as {role}: {r.status_code}")
                elif roles is not None and role not in roles and (r.status_code, code) != (403, "forbidden_role"):
                    problems.append(f"{method} {route.path} as {role}: {r.status_code} {code}, expected 403")
                elif roles is not None and role in roles and code == "forbidden_role":
                    problems.append(f"{method} {route.path} as {role}: refused by role, but the route names it")
                elif r.status_code == 401:
                    problems.append(f"{method} {route.path} as {role}: 401 with a valid token")
    assert not problems, "\n".join(problems)
    assert checked > 8 * 30
