"""Signing out through the form every page carries: the session then opens nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mailbot.web.app import create_app
from mailbot.web.context import WebContext
from tests.unit.web.conftest import csrf_of, signed_in_as


def test_sign_out_ends_the_session(context: WebContext) -> None:
    dpo = signed_in_as(context, "dpo")
    page = dpo.get("/cases")
    token = dpo.cookies.get("mailbot_session")
    assert page.status_code == 200 and token
    # The same cookie sent from elsewhere: it works while the session lives...
    replay = TestClient(create_app(context), base_url="https://testserver")
    cookie = {"Cookie": f"mailbot_session={token}"}
    assert replay.get("/cases", headers=cookie, follow_redirects=False).status_code == 200

    out = dpo.post("/signout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/signin")
    assert dpo.get("/cases", follow_redirects=False).status_code == 303
    # ...and not once it ended: signing out ends it in the database, not only the browser.
    again = replay.get("/cases", headers=cookie, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/signin")


def test_sign_out_needs_the_token(context: WebContext) -> None:
    dpo = signed_in_as(context, "dpo")
    assert dpo.post("/signout", data={}, follow_redirects=False).status_code == 403
    assert dpo.get("/cases").status_code == 200
