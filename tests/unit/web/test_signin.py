"""Signing in and out of the web app, and what every response carries (mailbot.web.auth,
routes/signin.py, security.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mailbot.web.app import create_app
from mailbot.web.context import WebContext
from mailbot.web.security import CONTENT_SECURITY_POLICY
from tests.unit.web.conftest import PEOPLE, csrf_of, sign_in


def test_each_role_lands_on_its_own_start_page(context: WebContext) -> None:
    homes = {"dpo": "/cases", "compliance": "/dashboard", "admin": "/staff"}
    for role, home in homes.items():
        client = TestClient(create_app(context), base_url="https://testserver")
        answer = sign_in(client, PEOPLE[role])
        assert answer.status_code == 303  # type: ignore[attr-defined]
        assert answer.headers["location"] == home  # type: ignore[attr-defined]


def test_the_session_cookie_is_httponly_secure_and_strict(anonymous: TestClient) -> None:
    answer = sign_in(anonymous, PEOPLE["dpo"])
    cookie = answer.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "mailbot_session=" in cookie
    for flag in ("HttpOnly", "Secure", "SameSite=strict"):
        assert flag.lower() in cookie.lower()


def test_a_wrong_password_is_refused_and_throttled(anonymous: TestClient) -> None:
    for _ in range(5):
        answer = sign_in(anonymous, PEOPLE["dpo"], "wrong password entirely")
        assert answer.status_code == 401  # type: ignore[attr-defined]
        assert "wrong name or password" in answer.text  # type: ignore[attr-defined]
    answer = sign_in(anonymous, PEOPLE["dpo"])
    assert answer.status_code == 401  # type: ignore[attr-defined]
    assert "too many failed sign-ins" in answer.text  # type: ignore[attr-defined]
    assert anonymous.get("/cases", follow_redirects=False).status_code == 303


def test_the_sign_in_form_needs_its_own_token(anonymous: TestClient) -> None:
    """Another site's page cannot post a sign-in (login CSRF)."""
    answer = anonymous.post(
        "/signin",
        data={"name": PEOPLE["dpo"], "password": "correct horse battery staple", "token": "x"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "mailbot_session" not in answer.headers.get("set-cookie", "")


def test_after_sign_out_the_session_is_unusable_even_with_the_old_cookie(
    dpo: TestClient,
) -> None:
    page = dpo.get("/cases")
    assert page.status_code == 200
    old_cookie = dpo.cookies.get("mailbot_session")
    assert old_cookie
    answer = dpo.post("/signout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert answer.headers["location"] == "/signin"
    dpo.cookies.set("mailbot_session", old_cookie)
    again = dpo.get("/cases", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/signin")


def test_sign_out_without_the_csrf_token_is_refused(dpo: TestClient) -> None:
    assert dpo.post("/signout", data={}).status_code == 403
    assert dpo.post("/signout", data={"csrf": "forged"}).status_code == 403
    assert dpo.get("/cases").status_code == 200


def test_after_sign_in_the_browser_goes_back_only_to_a_page_of_this_site(
    anonymous: TestClient,
) -> None:
    import re

    for target, expected in (
        ("/cases?status=all", "/cases?status=all"),
        ("//evil.test/", "/"),
        ("/\t/evil.test/", "/"),
        ("/\\evil.test", "/"),
    ):
        page = anonymous.get("/signin", params={"next": target})
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token is not None
        answer = anonymous.post(
            "/signin",
            data={
                "name": PEOPLE["dpo"],
                "password": "correct horse battery staple",
                "token": token.group(1),
                "next": target,
            },
            follow_redirects=False,
        )
        assert answer.headers["location"] in (expected, "/cases")
        assert "evil" not in answer.headers["location"]


def test_every_response_carries_the_strict_headers(anonymous: TestClient, dpo: TestClient) -> None:
    for client, path in ((anonymous, "/signin"), (dpo, "/cases"), (anonymous, "/nowhere")):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"


def test_no_page_loads_anything_from_elsewhere_or_runs_inline_script(
    dpo: TestClient,
) -> None:
    import re

    for path in ("/signin", "/cases", "/mails", "/suppression"):
        html = dpo.get(path).text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), path
        assert "<script>" not in html and " style=" not in html, path
    assert dpo.get("/static/app.css").status_code == 200


def test_healthz_answers_without_signing_in(anonymous: TestClient) -> None:
    answer = anonymous.get("/healthz")
    assert answer.status_code == 200 and answer.text == "ok\n"


def test_no_api_documentation_is_served(anonymous: TestClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert anonymous.get(path).status_code == 404
