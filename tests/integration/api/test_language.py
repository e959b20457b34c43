"""The language a person gets: their account's choice (set in the console) over the browser's
Accept-Language over FACILITY_DEFAULT_LOCALE; API error messages follow Accept-Language while
field names and enum values stay English."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from maintenance.accounts import service as users
from maintenance.assets.schemas import SiteCreate
from maintenance.assets.service import create_site
from maintenance.storage.db import utcnow
from tests.helpers import api_key, console_login, quiet_service

PASSWORD = "a long enough password"
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.3"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
CONSOLE = {"X-Facility-Console": "1"}


def _heading(html: str) -> str:
    start = html.index("<h1>") + 4
    return html[start : html.index(" <span", start)]


def test_account_choice_over_accept_language_over_the_default(tmp_path: Path) -> None:
    with quiet_service(tmp_path, default_locale="zh-CN") as runtime:
        with runtime.database.transaction() as s:
            users.create_user(s, "li", PASSWORD, "engineer", now=utcnow())
        client = TestClient(create_app(runtime))
        assert console_login(client, "li", PASSWORD).status_code == 303

        # No account choice, no browser language: the installation's default.
        page = client.get("/console/alarms", headers={"Accept-Language": ""})
        assert (page.status_code, page.headers["content-language"]) == (200, "zh-CN")
        assert '<html lang="zh-CN">' in page.text and _heading(page.text) == "告警"
        # The browser's language over the default.
        page = client.get("/console/alarms", headers=ENGLISH)
        assert (page.headers["content-language"], _heading(page.text)) == ("en", "Alarms")

        # The account's choice over the browser's.
        chosen = client.put("/users/me/language", json={"language": "zh-CN"}, headers=CONSOLE)
        assert (chosen.status_code, chosen.json()) == (200, {"language": "zh-CN"})
        page = client.get("/console/alarms", headers=ENGLISH)
        assert (page.headers["content-language"], _heading(page.text)) == ("zh-CN", "告警")
        assert 'data-chosen="zh-CN"' in page.text
        assert client.get("/users/me", headers=ENGLISH).json()["language"] == "zh-CN"

        # Back to the browser's language.
        cleared = client.put("/users/me/language", json={"language": None}, headers=CONSOLE)
        assert (cleared.status_code, cleared.json()) == (200, {"language": None})
        page = client.get("/console/alarms", headers=ENGLISH)
        assert page.headers["content-language"] == "en"

        # Only a supported language, with the field's path; without the console header the
        # cookie cannot change it (CSRF).
        bad = client.put("/users/me/language", json={"language": "fr"}, headers=CONSOLE)
        assert (bad.status_code, bad.json()["detail"][0]["loc"]) == (422, ["body", "language"])
        forged = client.put("/users/me/language", json={"language": "en"})
        assert forged.status_code == 403


def test_an_api_key_has_no_account_language(tmp_path: Path) -> None:
    with quiet_service(tmp_path) as runtime:
        client = TestClient(create_app(runtime))
        key = {"X-API-Key": api_key(runtime.database)}
        answer = client.put("/users/me/language", json={"language": "en"}, headers=key)
        assert answer.status_code == 409
        assert answer.json() == {
            "detail": "an API key has no account language; send Accept-Language"
        }


def test_api_error_messages_follow_accept_language(tmp_path: Path) -> None:
    with quiet_service(tmp_path) as runtime:
        client = TestClient(create_app(runtime))
        key = {"X-API-Key": api_key(runtime.database)}
        english = client.get("/tickets/999999", headers={**key, **ENGLISH})
        assert (english.status_code, english.json()) == (
            404,
            {"detail": "ticket 999999 not found", "kind": "ticket", "id": "999999"},
        )
        chinese = client.get("/tickets/999999", headers={**key, **CHINESE})
        assert (chinese.status_code, chinese.json()) == (
            404,
            {"detail": "未找到工单 999999", "kind": "ticket", "id": "999999"},
        )
        anonymous = client.get("/tickets", headers=CHINESE)
        assert (anonymous.status_code, anonymous.json()) == (
            401,
            {"detail": "未登录：请通过 /auth/token 登录或提供 API 密钥"},
        )
        # A console error page in the same language.
        page = client.get("/console/tickets/999999", headers={**key, **CHINESE})
        assert page.status_code == 404
        assert "<h1>未找到</h1>" in page.text and "工单 999999 不存在，或您无权查看。" in page.text
        technician = {"X-API-Key": api_key(runtime.database, "technician"), **CHINESE}
        refused = client.get("/console/reports", headers=technician)
        assert refused.status_code == 403
        assert "您的角色无权访问此页面（维修人员）。" in refused.text


def test_a_residents_request_form_lists_the_estates_in_pinyin_order(tmp_path: Path) -> None:
    with quiet_service(tmp_path, default_locale="zh-CN") as runtime:
        with runtime.database.transaction() as s:
            for code, name in (("zh", "中海大厦"), ("yg", "阳光花园"), ("bc", "北辰小区")):
                create_site(s, SiteCreate(code=code, name=name, timezone="Asia/Shanghai"))
            users.create_user(s, "resident", PASSWORD, "requester", now=utcnow())
        client = TestClient(create_app(runtime))
        assert console_login(client, "resident", PASSWORD).status_code == 303
        form = client.get("/console/requests/new", headers={"Accept-Language": ""})
        assert form.headers["content-language"] == "zh-CN"
        options = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', form.text)
        assert options[:3] == ["北辰小区", "阳光花园", "中海大厦"]  # bei, yang, zhong
