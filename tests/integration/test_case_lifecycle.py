"""The full story of issue 4, end to end through Dovecot, `mailbot run` and an SMTP server:

* an access request from an unknown address -> acknowledgement asking for the ID card's
  front -> the requester replies with it -> verified by the ID check, the copy deleted
  (database and inbox folder), the clock resumed -> the DPO completes, approves -> sent;
* an objection from a known account address -> no ID asked, suppressed at once,
  confirmation sent, case closed.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import sys
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.idcards.render import render_sample
from tests.integration.botprocess import bot_env, cases, mailbot
from tests.mailfactory import request_mail
from tests.servers.mailservers import Dovecot, MailAccount, SmtpSink

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/tesseract").exists(), reason="the ID check needs tesseract"
)

FILLED = "your account data: name, e-mail address, two quote requests of 2026"
EDITOR = f"""#!{sys.executable}
import re, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write(re.sub(r"\\[\\[.*?\\]\\]", "{FILLED}", text, flags=re.S))
"""


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _inbox_sizes(dovecot: Dovecot, account: MailAccount) -> list[int]:
    client = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False)
    try:
        client.login(account.user, account.password)
        client.select_folder("INBOX", readonly=True)
        fetched = client.fetch(client.search(["ALL"]), ["RFC822.SIZE"])
        return sorted(int(data[b"RFC822.SIZE"]) for data in fetched.values())
    finally:
        client.logout()


def test_request_id_copy_verification_and_approved_answer(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    request = request_mail(
        sender="Lotte Verbeke <lotte.verbeke@example.org>",
        language="fr",
        subject="Accès à mes données",
        body="Bonjour,\nJe souhaite recevoir une copie de toutes les données que vous avez"
        " sur moi (article 15 du RGPD).\nMerci,\nLotte Verbeke",
        message_id="<access-1@example.org>",
    )
    dovecot.deliver(mail_account, request)
    mailbot("run", "--once", env=env)

    (ack,) = smtp_sink.wait_for(1)
    ack_text = ack.get_content()
    assert "recto" in ack_text and "carte d'identité" in ack_text  # the front side only
    (case,) = cases(env)
    assert case["status"] == "awaiting_identity"
    reference = str(case["reference"])

    card = render_sample(0, "eid_front", "clean", "jpeg", holder=("Verbeke", "Lotte"))
    reply = request_mail(
        sender="Lotte Verbeke <lotte.verbeke@example.org>",
        language="fr",
        subject=f"Re: {ack['Subject']}",
        body="Voici ma carte d'identité.",
        message_id="<access-2@example.org>",
        extra_headers={"In-Reply-To": str(ack["Message-ID"])},
        attachments=[("IMG_2041.jpg", "image/jpeg", card.data)],
    )
    dovecot.deliver(mail_account, reply)
    card_mail_size = max(_inbox_sizes(dovecot, mail_account))
    assert card_mail_size > len(card.data)
    mailbot("run", "--once", env=env)

    sent = smtp_sink.wait_for(2)
    received = sent[1]
    assert received["In-Reply-To"] == "<access-2@example.org>"
    shown = _json_lines(mailbot("cases", "show", reference, "--json", env=env).stdout)
    facts, events = shown[0], [row["kind"] for row in shown[1:]]
    assert facts["identity_verified"] is True
    assert facts["identity_method"] == "id-copy:eid_front"
    assert facts["status"] == "awaiting_approval"
    assert {"identity_requested", "identity_checked", "id_copy_deleted"} <= set(events)
    # The copy is gone: from the inbox folder (the worker removed that mail) and from
    # the database, where the attachment's row keeps only that it was checked.
    assert card_mail_size not in _inbox_sizes(dovecot, mail_account)
    with sqlite3.connect(tmp_path / "data" / "mailbot.sqlite3") as db:
        rows = db.execute("SELECT kind, purged_at, filename FROM attachment").fetchall()
    assert [(kind, purged is not None, name) for kind, purged, name in rows] == [
        ("eid_front", True, None)
    ]

    (draft,) = _json_lines(mailbot("drafts", "list", "--json", env=env).stdout)
    assert draft["kind"] == "access_answer" and draft["problems"]
    refused = mailbot(
        "drafts", "approve", str(draft["id"]), "--as", "Dana DPO", env=env, check=False
    )
    assert refused.returncode == 1 and "fill in" in refused.stderr  # fill-ins left
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR, encoding="utf-8")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    mailbot(
        "drafts", "edit", str(draft["id"]), "--as", "Dana DPO", env={**env, "EDITOR": str(editor)}
    )
    mailbot("drafts", "approve", str(draft["id"]), "--as", "Dana DPO", env=env)
    mailbot("run", "--once", env=env)

    answer = smtp_sink.wait_for(3)[2]
    body = answer.get_content()
    assert FILLED in body and "[[" not in body
    assert "Rue de la Presse 35" in body  # the right to complain, with the address
    (closed,) = cases(env)
    assert closed["status"] == "closed"
    shown = _json_lines(mailbot("cases", "show", reference, "--json", env=env).stdout)
    approvals = [row for row in shown[1:] if row["kind"] == "reply_approved"]
    assert [row["actor"] for row in approvals] == ["Dana DPO"]
    verdict = json.loads(mailbot("audit", "verify", "--json", env=env).stdout)
    assert verdict["intact"] is True


def test_objection_from_a_known_address_is_honoured_at_once(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("id;Email;name\n7;Pieter.Claes@example.org;Pieter\n", encoding="utf-8")
    assert "1 new" in mailbot("accounts", "import", str(accounts), env=env).stdout
    objection = request_mail(
        sender="Pieter Claes <pieter.claes@example.org>",
        language="nl",
        subject="Geen reclame meer",
        body="Goedemiddag,\nIk maak bezwaar tegen direct marketing: stuur mij geen"
        " reclame of nieuwsbrieven meer en bel mij niet meer voor promoties.\nPieter Claes",
    )
    dovecot.deliver(mail_account, objection)
    mailbot("run", "--once", env=env)

    (confirmation,) = smtp_sink.wait_for(1)
    text = confirmation.get_content()
    assert "identiteitskaart" not in text  # never an ID request for an objection
    (case,) = cases(env)
    assert case["status"] == "closed"
    with sqlite3.connect(tmp_path / "data" / "mailbot.sqlite3") as db:
        suppressed = db.execute("SELECT address, reason FROM suppression").fetchall()
    assert suppressed == [("pieter.claes@example.org", "objection")]
