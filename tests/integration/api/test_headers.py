"""Security headers (api/headers.py) on every console page and every API answer, attachments
as downloads under their UTF-8 names, no Swagger UI on the console's origin, and the CSRF
defences of the login and logout forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api import console
from api.headers import CONSOLE_POLICY, UPLOAD_POLICY
from api.main import create_app
from api.runtime import Runtime
from tests.helpers import api_key, console_login, logout_token, quiet_service

PASSWORD = "the admin's long password"
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\son[a-z]+=|\sstyle=")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    with quiet_service(tmp_path / "state", admin_password=PASSWORD) as runtime:
        yield runtime, TestClient(create_app(runtime))


def assert_hardened(response: httpx.Response, *, policy: str = CONSOLE_POLICY) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    assert response.headers["content-security-policy"] == policy, where
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY", where
    assert response.headers["x-content-type-options"] == "nosniff", where
    assert response.headers["cache-control"] == "no-store", where
    assert response.headers["referrer-policy"] == "same-origin", where


def seed(client: TestClient) -> dict[str, str]:
    """Real objects for every path parameter of a console page."""
    site = client.post("/sites", json={"code": "s1", "name": "Estate"}).json()
    ticket = client.post(
        "/tickets",
        json={"site_id": site["id"], "type": "suggestion", "channel": "app", "title": "bench"},
    )
    assert ticket.status_code == 201, ticket.text
    place = client.post("/locations", json={"site_id": site["id"], "building": "Gate"}).json()
    made = client.post(
        "/patrols/rounds",
        json={
            "site_id": site["id"],
            "name": "Patrol",
            "starts_on": "2020-01-01",
            "window_minutes": 60,
            "grace_minutes": 0,
            "points": [{"location_id": place["id"]}],
        },
    ).json()
    checked = client.post("/patrols/check-ins", data={"code": made["points"][0]["code"]})
    assert checked.status_code == 201, checked.text
    return {
        "site": "s1",
        "system": "elevator",
        "device_id": "e1",
        "ticket_id": str(ticket.json()["id"]),
        "round_id": str(made["id"]),
        "run_id": str(checked.json()["run_id"]),
        "code": made["points"][0]["code"],
    }


def path_is_series(route: APIRoute) -> bool:
    return route.path.endswith("/series")  # the chart data needs its metric


def console_routes() -> list[APIRoute]:
    return [r for m in console.MODULES for r in m.router.routes if isinstance(r, APIRoute)]


def test_every_console_page_carries_the_security_headers(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    client.headers["X-API-Key"] = api_key(runtime.database)
    params = seed(client)
    answers: dict[str, int] = {}
    for route in console_routes():
        if "GET" not in (route.methods or ()):
            continue
        path = route.path.format(**params) + ("?metric=speed" if path_is_series(route) else "")
        signed_in = client.get(path, follow_redirects=False)
        assert_hardened(signed_in)
        # What the policy would block: inline scripts, event handler attributes, inline styles.
        assert INLINE.findall(signed_in.text) == [], path
        answers[route.path] = signed_in.status_code
        anonymous = client.get(path, follow_redirects=False, headers={"X-API-Key": ""})
        assert_hardened(anonymous)
    assert answers == {
        "/console/login": 200,
        "/console": 303,
        "/console/alarms": 200,
        "/console/alarms/rows": 200,
        "/console/sites": 200,
        "/console/devices/{site}/{system}/{device_id}": 200,
        "/console/devices/{site}/{system}/{device_id}/series": 200,
        "/console/tickets": 200,
        "/console/tickets/{ticket_id}": 200,
        "/console/my": 200,
        "/console/requests": 200,
        "/console/requests/new": 200,
        "/console/reports": 200,
        "/console/devices/unmapped": 200,
        "/console/patrols": 200,
        "/console/patrols/check-in/{code}": 200,
        "/console/patrols/runs/{run_id}": 200,
        "/console/patrols/rounds/{round_id}/labels": 200,
    }
    for route in console_routes():  # the forms and the renewal, refused or not
        if "POST" in (route.methods or ()):
            assert_hardened(client.post(route.path, follow_redirects=False))
    static = client.get("/console/static/console.js")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in static.headers.get("cache-control", "")  # no personal data


def test_every_api_answer_carries_them_too(service: tuple[Runtime, TestClient]) -> None:
    runtime, client = service
    client.headers["X-API-Key"] = api_key(runtime.database)
    ids = seed(client)
    schema = client.get("/openapi.json").json()
    checked = 0
    for path, operations in schema["paths"].items():
        if "get" not in operations or path == "/alarms/live":
            continue
        concrete = path
        for name in ("ticket_id", "site_id", "asset_id", "plan_id", "alarm_id", "attachment_id"):
            concrete = concrete.replace(f"{{{name}}}", ids["ticket_id"])
        concrete = concrete.replace("{technician_id}", "1")
        answer = client.get(concrete)
        assert answer.status_code < 500, (path, answer.text)
        uploaded = path.startswith("/attachments/")
        assert_hardened(answer, policy=UPLOAD_POLICY if uploaded else CONSOLE_POLICY)
        checked += 1
    assert checked == len([p for p, o in schema["paths"].items() if "get" in o]) - 1
    refused = client.get("/users/me", headers={"X-API-Key": "fk_wrong"})
    assert refused.status_code == 401
    assert_hardened(refused)
    gated = client.post("/tickets", content=b"{", headers={"X-API-Key": "fk_wrong"})
    assert gated.status_code == 401  # the gate's own answer, before the body
    assert_hardened(gated)


def test_a_server_error_carries_them_too(service: tuple[Runtime, TestClient]) -> None:
    runtime, _ = service
    app = create_app(runtime)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/console/broken", broken)
    answer = TestClient(app, raise_server_exceptions=False).get("/console/broken")
    assert answer.status_code == 500
    assert_hardened(answer)


def test_attachments_download_under_their_utf8_names_in_a_sandbox(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    client.headers["X-API-Key"] = api_key(runtime.database)
    ticket = seed(client)["ticket_id"]
    made = client.post(
        f"/tickets/{ticket}/attachments", files={"file": ("电梯_照片.png", PNG, "image/png")}
    )
    assert made.status_code == 201 and made.json()["filename"] == "电梯_照片.png"
    fetched = client.get(f"/attachments/{made.json()['id']}")
    assert (fetched.status_code, fetched.content) == (200, PNG)
    assert fetched.headers["content-disposition"] == (
        'attachment; filename="_____.png"; '
        "filename*=UTF-8''%E7%94%B5%E6%A2%AF_%E7%85%A7%E7%89%87.png"
    )
    assert_hardened(fetched, policy=UPLOAD_POLICY)
    quoted = client.post(
        f"/tickets/{ticket}/attachments", files={"file": ("a;b c.png", PNG, "image/png")}
    )
    header = client.get(f"/attachments/{quoted.json()['id']}").headers["content-disposition"]
    assert header == "attachment; filename=\"a_b c.png\"; filename*=UTF-8''a%3Bb%20c.png"


def test_no_swagger_ui_or_redoc_on_the_consoles_origin(service: tuple[Runtime, TestClient]) -> None:
    _, client = service
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404
    schema = client.get("/openapi.json")
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "Facility monitoring"


def test_login_and_logout_forms_refuse_other_sites(service: tuple[Runtime, TestClient]) -> None:
    _, client = service
    credentials = {"username": "admin", "password": PASSWORD, "next": "/console"}
    # Without the form's token (a form on another site), or with one but from another origin.
    tokenless = client.post("/console/login", data=credentials, follow_redirects=False)
    assert tokenless.status_code == 403
    assert "the login form expired; please log in again" in tokenless.text
    assert "facility_session" not in tokenless.headers.get("set-cookie", "")
    form = client.get("/console/login")
    token = form.text.split('name="csrf" value="')[1].split('"')[0]
    cross = client.post(
        "/console/login",
        data={**credentials, "csrf": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross.status_code == 403 and "facility_session" not in cross.headers["set-cookie"]
    done = console_login(client, "admin", PASSWORD)
    assert (done.status_code, done.headers["location"]) == (303, "/console")
    page = client.get("/console/alarms")
    cross_out = client.post(
        "/console/logout",
        data={"csrf": logout_token(page.text)},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross_out.status_code == 403
    assert client.get("/users/me").json()["name"] == "admin"  # still logged in
    same = client.post(
        "/console/logout",
        data={"csrf": logout_token(page.text)},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert (same.status_code, same.headers["location"]) == (303, "/console/login")
