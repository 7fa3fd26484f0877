"""Users (/staff): only for admins; add (a short password refused), disable (their
sessions end at once), set a new password (their sessions end; the new one works)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from mailbot.staff.members import find_member
from mailbot.web.app import create_app
from mailbot.web.context import WebContext
from tests.unit.web.conftest import (
    PASSWORD,
    PEOPLE,
    csrf_of,
    refused_to_others,
    sign_in,
    signed_in_as,
    token_of,
)

NEW_PASSWORD = "a long new passphrase 2030"


def act(admin: TestClient, action: str, **data: str) -> str:
    """What the admin reads after the action (the notice on the users page)."""
    csrf = csrf_of(admin.get("/staff").text)
    done = admin.post(f"/staff/{action}", data={"csrf": csrf, **data}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/staff")
    return admin.get("/staff").text


def fresh_client(context: WebContext) -> TestClient:
    return TestClient(create_app(context), base_url="https://testserver")


def test_only_admins_manage_users(context: WebContext) -> None:
    page = signed_in_as(context, "admin").get("/staff")
    assert page.status_code == 200 and PEOPLE["dpo"] in page.text
    refused_to_others(context, "GET", "/staff", allowed="admin")
    for action, data in (
        ("add", {"name": "Eve", "role": "admin", "password": NEW_PASSWORD}),
        ("disable", {"name": PEOPLE["admin"]}),
        ("password", {"name": PEOPLE["admin"], "password": NEW_PASSWORD}),
    ):
        refused_to_others(context, "POST", f"/staff/{action}", data, allowed="admin")
        admin = signed_in_as(context, "admin")
        other = token_of(signed_in_as(context, "admin"), context)
        for form in (data, {**data, "csrf": other}):
            assert admin.post(f"/staff/{action}", data=form).status_code == 403
    with Session(context.engine) as session:
        assert find_member(session, "Eve") is None
        admin_row = find_member(session, PEOPLE["admin"])
        assert admin_row is not None and admin_row.disabled_at is None


def test_add_a_user_who_can_then_sign_in(context: WebContext) -> None:
    admin = signed_in_as(context, "admin")
    page = act(admin, "add", name="Dirk DPO", role="dpo", password=NEW_PASSWORD)
    assert "Dirk DPO added as dpo" in page
    dirk = fresh_client(context)
    assert sign_in(dirk, "Dirk DPO", NEW_PASSWORD).status_code == 303
    assert dirk.get("/cases").status_code == 200


def test_a_password_under_twelve_characters_is_refused(context: WebContext) -> None:
    admin = signed_in_as(context, "admin")
    page = act(admin, "add", name="Shorty", role="dpo", password="elevenchars")
    assert "Refused:" in page and "12" in page
    with Session(context.engine) as session:
        assert find_member(session, "Shorty") is None
    page = act(admin, "password", name=PEOPLE["dpo"], password="short")
    assert "Refused:" in page


def test_disable_ends_that_persons_sessions(context: WebContext) -> None:
    dpo = signed_in_as(context, "dpo")
    assert dpo.get("/cases").status_code == 200
    page = act(signed_in_as(context, "admin"), "disable", name=PEOPLE["dpo"])
    assert f"{PEOPLE['dpo']} disabled; their sessions ended" in page
    gone = dpo.get("/cases", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/signin")
    assert sign_in(fresh_client(context), PEOPLE["dpo"]).status_code == 401


def test_a_new_password_ends_the_sessions_and_replaces_the_old(context: WebContext) -> None:
    dpo = signed_in_as(context, "dpo")
    page = act(
        signed_in_as(context, "admin"), "password", name=PEOPLE["dpo"], password=NEW_PASSWORD
    )
    assert f"new password set for {PEOPLE['dpo']}" in page
    assert dpo.get("/cases", follow_redirects=False).status_code == 303
    assert sign_in(fresh_client(context), PEOPLE["dpo"], PASSWORD).status_code == 401
    again = fresh_client(context)
    assert sign_in(again, PEOPLE["dpo"], NEW_PASSWORD).status_code == 303
    assert again.get("/cases").status_code == 200
