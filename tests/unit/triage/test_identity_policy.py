"""Identity policy (LEGAL.md §2.2-2.3): when the bot asks for an ID copy, and the reason kept."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifiers import LABELS, RIGHTS
from mailbot.mail.parse import parse_mail
from mailbot.triage.identity import ID_KINDS
from mailbot.triage.identity_policy import (
    DOUBT_REASONS,
    IdentityDecision,
    IdentityPolicy,
    RequesterFacts,
    asks_answer_elsewhere,
    changes_account_email,
    identity_decision,
    pause_eligible,
    requester_facts,
    writes_for_someone_else,
)

SENDER = "anna.peeters@example.org"
NEEDS_ID = sorted(set(RIGHTS) - {"objection", "withdraw_consent"})


def _facts(
    *,
    known: bool = True,
    reply_to_differs: bool = False,
    third_party: bool = False,
    elsewhere: bool = False,
    changes_email: bool = False,
    kind: str = "none",
    unauthenticated: bool = False,
) -> RequesterFacts:
    return RequesterFacts(
        sender_known=known,
        reply_to_differs=reply_to_differs,
        third_party=third_party,
        answer_elsewhere=elsewhere,
        changes_email=changes_email,
        id_attached_kind=kind,
        sender_unauthenticated=unauthenticated,
    )


# --- detectors -------------------------------------------------------------------------

ON_BEHALF = [
    "Ik schrijf u namens mijn moeder, die zelf geen e-mail heeft.",
    "Als advocaat van mevrouw Janssens verzoek ik om inzage.",
    "Ik vraag inzage voor mijn vader.",
    "Graag alle gegevens van mijn overleden vader wissen.",
    "Je vous écris au nom de mon client, M. Dupont.",
    "Je vous contacte de la part de ma mère.",
    "En tant qu'avocat de Mme Lambert, je demande l'accès.",
    "Veuillez supprimer les données de ma mère.",
    "Im Auftrag meiner Mandantin verlange ich Auskunft.",
    "Im Namen meiner Mutter bitte ich um Löschung.",
    "Bitte löschen Sie die Daten meines verstorbenen Vaters.",
    "Ich vertrete Herrn Schmidt in dieser Angelegenheit.",
    "I am writing on behalf of my mother.",
    "As the legal guardian of my son I request access to his data.",
    "Please delete my father's account.",
    "ON MY MOTHER’S BEHALF, please erase her data.",
]
OWN_BEHALF = [
    "Mijn moeder heeft ook een account, maar dit gaat over mijn eigen gegevens.",
    "Ik schrijf namens mezelf.",
    "Ik heb via Jaimy een klus voor mijn moeder laten doen. Verwijder mijn gegevens.",
    "Ma mère a aussi un compte chez vous, mais je parle de mes données.",
    "J'écris en mon nom propre.",
    "Je suis artisan, mes clients me contactent via Jaimy. Supprimez mon profil.",
    "Meine Mutter hat auch ein Konto bei Ihnen.",
    "Ich schreibe in meinem eigenen Namen.",
    "I am writing on my own behalf.",
    "My mother also has an account; please only delete mine.",
    "As a plumber I work for my clients through Jaimy.",
    "As a parent, I care about privacy. Please send me my data.",
]


@pytest.mark.parametrize("text", ON_BEHALF)
def test_someone_writing_for_another_person_is_recognised(text: str) -> None:
    assert writes_for_someone_else(text)


@pytest.mark.parametrize("text", OWN_BEHALF)
def test_mentioning_a_relative_or_clients_is_not_writing_for_them(text: str) -> None:
    assert not writes_for_someone_else(text)


ELSEWHERE = [
    ("Please send the data to my other address.", SENDER),
    ("Please send my data to anna.other@example.test", SENDER),
    ("Don't reply to this address but to anna.work@example.test", SENDER),
    ("Don't send it to this address, send it to anna.work@example.test please", SENDER),
    ("Stuur het antwoord naar mijn werkadres.", SENDER),
    ("Graag het antwoord naar piet.claes@example.test sturen.", SENDER),
    ("Envoyez la réponse à mon adresse professionnelle.", SENDER),
    ("Merci de transmettre les données à mon avocat.", SENDER),
    ("Bitte senden Sie die Auskunft an meine private E-Mail-Adresse.", SENDER),
    ("Bitte die Antwort an hans.weber@example.test schicken.", SENDER),
    ("Please reply to my lawyer.", SENDER),
]
HERE = [
    ("Please send the data to Anna.Peeters@Example.org", SENDER),
    ("Please send me a copy of my data.", SENDER),
    ("Stop sending newsletters to my work address.", SENDER),
    ("Stuur geen mails meer naar mijn werkadres.", SENDER),
    ("N'envoyez plus de publicité à mon adresse professionnelle.", SENDER),
    ("Schicken Sie keine Werbung mehr an meine Arbeitsadresse.", SENDER),
    ("My e-mail address is anna.b@example.test.", SENDER),
    ("Reply to me about the account anna.b@example.test", SENDER),
    ("Ik heb een nieuw e-mailadres.", SENDER),
    ("Envoyez-moi une copie de mes données, s'il vous plaît.", SENDER),
]


@pytest.mark.parametrize(("text", "sender"), ELSEWHERE)
def test_a_request_to_answer_elsewhere_is_recognised(text: str, sender: str) -> None:
    assert asks_answer_elsewhere(text, sender=sender)


@pytest.mark.parametrize(("text", "sender"), HERE)
def test_answers_to_the_sender_or_stopped_mailings_are_not_elsewhere(
    text: str, sender: str
) -> None:
    assert not asks_answer_elsewhere(text, sender=sender)


def test_without_a_sender_every_named_address_is_elsewhere() -> None:
    assert asks_answer_elsewhere("Please send the data to anna.peeters@example.org")


EMAIL_CHANGES = [
    "Please change my e-mail address to anna.new@example.test",
    "My email address has changed.",
    "Wijzig mijn e-mailadres naar piet@example.test.",
    "Mijn e-mailadres moet aangepast worden.",
    "Pas mijn e-mailadres aan.",
    "Mijn nieuwe e-mailadres is jan@example.test.",
    "Merci de modifier mon adresse e-mail.",
    "Mon adresse électronique a changé.",
    "Ma nouvelle adresse e-mail : luc@example.test",
    "Bitte ändern Sie meine E-Mail-Adresse.",
    "Meine E-Mail-Adresse hat sich geändert.",
    "Bitte verwenden Sie neue@example.test statt alte@example.test.",
]
OTHER_CHANGES = [
    "Please change my postal address to Kerkstraat 5, Gent.",
    "Wijzig mijn adres naar Kerkstraat 5.",
    "Changez mon adresse postale svp.",
    "Bitte ändern Sie meine Telefonnummer; meine E-Mail-Adresse bleibt gleich.",
    "My email address is anna@example.org and I want to change my name.",
    "I received a new e-mail from you; please correct my name.",
    "Mijn e-mailadres is jan@example.org, gelieve mijn telefoonnummer te wijzigen.",
]


@pytest.mark.parametrize("text", EMAIL_CHANGES)
def test_rectifying_the_account_email_is_recognised(text: str) -> None:
    assert changes_account_email(text, ["rectification"])
    assert changes_account_email(text, ["access", "rectification"])


@pytest.mark.parametrize("text", EMAIL_CHANGES)
def test_an_email_change_counts_only_with_rectification(text: str) -> None:
    assert not changes_account_email(text, ["access"])
    assert not changes_account_email(text, [])


@pytest.mark.parametrize("text", OTHER_CHANGES)
def test_rectifying_something_else_is_no_email_change(text: str) -> None:
    assert not changes_account_email(text, ["rectification"])


@given(st.sampled_from(ON_BEHALF), st.booleans())
def test_detectors_ignore_case(text: str, upper: bool) -> None:
    assert writes_for_someone_else(text.upper() if upper else text.lower())


# --- the decision ----------------------------------------------------------------------


def test_a_known_sender_without_doubt_is_not_asked() -> None:
    decision = identity_decision(["access"], _facts(), IdentityPolicy.ON_DOUBT)
    assert decision == IdentityDecision(False, None, decision.why)
    assert not pause_eligible(decision)


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (_facts(known=False), "unknown_address"),
        (_facts(reply_to_differs=True), "other_reply_address"),
        (_facts(elsewhere=True), "other_reply_address"),
        (_facts(third_party=True), "third_party"),
        (_facts(changes_email=True), "changes_account_email"),
        (_facts(unauthenticated=True), "sender_not_authenticated"),
    ],
)
def test_each_doubt_makes_the_bot_ask_and_may_pause_the_clock(
    facts: RequesterFacts, reason: str
) -> None:
    decision = identity_decision(["erasure"], facts, IdentityPolicy.ON_DOUBT)
    assert decision.ask_for_id
    assert decision.doubt_reason == reason
    assert pause_eligible(decision)


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (_facts(known=False, third_party=True, elsewhere=True, changes_email=True), "third_party"),
        (_facts(known=False, reply_to_differs=True, changes_email=True), "other_reply_address"),
        (_facts(known=False, changes_email=True), "changes_account_email"),
        (_facts(known=False, unauthenticated=True, changes_email=True), "changes_account_email"),
        (_facts(known=False, unauthenticated=True), "sender_not_authenticated"),
        (_facts(known=False), "unknown_address"),
    ],
)
@pytest.mark.parametrize("policy", list(IdentityPolicy))
def test_the_highest_doubt_is_recorded_and_the_others_are_mentioned(
    facts: RequesterFacts, reason: str, policy: IdentityPolicy
) -> None:
    decision = identity_decision(["access"], facts, policy)
    assert decision.doubt_reason == reason
    if reason != "unknown_address":
        assert "unknown_address" in decision.why


def test_always_asks_a_known_sender_but_that_never_pauses_the_clock() -> None:
    decision = identity_decision(["access"], _facts(), IdentityPolicy.ALWAYS)
    assert decision.ask_for_id
    assert decision.doubt_reason == "policy_always"
    assert not pause_eligible(decision)


@pytest.mark.parametrize("rights", [["objection"], ["withdraw_consent"], ["objection", "other"]])
@pytest.mark.parametrize("policy", list(IdentityPolicy))
def test_an_objection_from_an_unknown_address_is_honoured_without_an_id(
    rights: list[str], policy: IdentityPolicy
) -> None:
    decision = identity_decision(rights, _facts(known=False), policy)
    assert not decision.ask_for_id
    assert decision.doubt_reason == "unknown_address"
    assert "suppression list" in decision.why
    assert not pause_eligible(decision)


def test_an_objection_alongside_access_still_asks_for_access() -> None:
    decision = identity_decision(
        ["objection", "access"], _facts(known=False), IdentityPolicy.ON_DOUBT
    )
    assert decision.ask_for_id


@pytest.mark.parametrize("rights", [["other"], ["not_a_request"], ["other", "not_a_request"], []])
@pytest.mark.parametrize("policy", list(IdentityPolicy))
def test_no_id_is_asked_when_no_right_is_exercised(
    rights: list[str], policy: IdentityPolicy
) -> None:
    decision = identity_decision(rights, _facts(known=False, third_party=True), policy)
    assert not decision.ask_for_id
    assert decision.doubt_reason is None


@pytest.mark.parametrize("kind", ["eid_front", "passport", "driving_licence", "other_document"])
def test_an_attached_id_is_not_asked_again_but_the_doubt_is_recorded(kind: str) -> None:
    decision = identity_decision(
        ["access"], _facts(third_party=True, kind=kind), IdentityPolicy.ON_DOUBT
    )
    assert not decision.ask_for_id
    assert decision.doubt_reason == "third_party"
    assert not pause_eligible(decision)


def test_only_the_back_of_the_eid_is_not_enough() -> None:
    decision = identity_decision(
        ["access"], _facts(known=False, kind="eid_back"), IdentityPolicy.ON_DOUBT
    )
    assert decision.ask_for_id
    assert "front" in decision.why


def test_unknown_labels_and_id_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        identity_decision(["acces"], _facts(), IdentityPolicy.ON_DOUBT)
    with pytest.raises(ValueError, match="id_attached_kind"):
        _facts(kind="selfie")


facts_strategy = st.builds(
    RequesterFacts,
    sender_known=st.booleans(),
    reply_to_differs=st.booleans(),
    third_party=st.booleans(),
    answer_elsewhere=st.booleans(),
    changes_email=st.booleans(),
    id_attached_kind=st.sampled_from(ID_KINDS),
    sender_unauthenticated=st.booleans(),
)
policies = st.sampled_from(list(IdentityPolicy))


@given(
    st.lists(st.sampled_from(["objection", "withdraw_consent"]), min_size=1, max_size=2),
    facts_strategy,
    policies,
)
def test_objection_or_withdrawal_alone_never_asks(
    rights: list[str], facts: RequesterFacts, policy: IdentityPolicy
) -> None:
    assert not identity_decision(rights, facts, policy).ask_for_id


@given(st.lists(st.sampled_from(LABELS), max_size=4), facts_strategy, policies)
def test_every_request_for_an_id_has_a_reason_and_only_doubt_pauses(
    rights: list[str], facts: RequesterFacts, policy: IdentityPolicy
) -> None:
    decision = identity_decision(rights, facts, policy)
    assert decision.doubt_reason is None or decision.doubt_reason in DOUBT_REASONS
    if decision.ask_for_id:
        assert decision.doubt_reason is not None
        assert facts.id_attached_kind not in ("eid_front", "passport", "driving_licence")
    if pause_eligible(decision):
        assert decision.ask_for_id and decision.doubt_reason != "policy_always"


@given(st.sampled_from(NEEDS_ID), facts_strategy)
def test_on_doubt_asks_exactly_when_a_doubt_holds_and_no_id_is_there(
    right: str, facts: RequesterFacts
) -> None:
    doubt = (
        facts.third_party
        or facts.reply_to_differs
        or facts.answer_elsewhere
        or facts.changes_email
        or facts.sender_unauthenticated
        or not facts.sender_known
    )
    no_id = facts.id_attached_kind in ("none", "eid_back")
    decision = identity_decision([right], facts, IdentityPolicy.ON_DOUBT)
    assert decision.ask_for_id == (doubt and no_id)
    assert (decision.doubt_reason is not None) == doubt


# --- facts from a mail -----------------------------------------------------------------


def _mail(body: str, *, reply_to: str | None = None, subject: str = "Mijn gegevens") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Anna Peeters <{SENDER}>"
    msg["To"] = "privacy@jaimy.example.test"
    msg["Subject"] = subject
    if reply_to:
        msg["Reply-To"] = reply_to
    msg.set_content(body)
    return msg.as_bytes()


def test_facts_from_a_plain_request_hold_no_doubt() -> None:
    mail = parse_mail(_mail("Graag een kopie van mijn gegevens."))
    facts = requester_facts(
        mail,
        "Graag een kopie van mijn gegevens.",
        ["access"],
        sender_known=True,
        id_attached_kind="none",
    )
    assert facts == _facts()


def test_facts_read_the_reply_to_the_subject_and_the_text() -> None:
    text = "Wijzig mijn e-mailadres naar anna.nieuw@example.test."
    mail = parse_mail(
        _mail(text, reply_to="Anna <anna.work@example.test>", subject="Namens mijn moeder")
    )
    facts = requester_facts(
        mail, text, ["rectification"], sender_known=False, id_attached_kind="passport"
    )
    assert facts == _facts(
        known=False, reply_to_differs=True, third_party=True, changes_email=True, kind="passport"
    )


@pytest.mark.parametrize(
    ("results", "failed"),
    [
        ("mx.jaimy.be; dmarc=fail (p=reject) header.from=example.org", True),
        ("mx.jaimy.be; spf=fail smtp.mailfrom=example.org; dkim=fail header.d=example.org", True),
        ("mx.jaimy.be; DMARC=FAIL header.from=example.org", True),
        ("mx.jaimy.be; spf=fail smtp.mailfrom=example.org; dkim=pass header.d=example.org", False),
        ("mx.jaimy.be; dkim=fail header.d=example.org; spf=pass", False),  # a list's footer
        ("mx.jaimy.be; spf=softfail; dkim=none; dmarc=pass", False),
        ("mx.jaimy.be; dmarc=pass; spf=pass; dkim=pass", False),
    ],
)
def test_failed_sender_authentication_is_a_doubt_about_a_known_account(
    results: str, failed: bool
) -> None:
    raw = _mail("Verwijder mijn gegevens.")
    mail = parse_mail(b"Authentication-Results: " + results.encode() + b"\r\n" + raw)
    facts = requester_facts(
        mail, "Verwijder mijn gegevens.", ["erasure"], sender_known=True, id_attached_kind="none"
    )
    assert facts.sender_unauthenticated is failed
    decision = identity_decision(["erasure"], facts, IdentityPolicy.ON_DOUBT)
    assert decision.ask_for_id is failed
    assert decision.doubt_reason == ("sender_not_authenticated" if failed else None)
    if failed:
        assert "authentication" in decision.why and pause_eligible(decision)


def test_a_reply_to_equal_to_the_sender_is_no_difference() -> None:
    mail = parse_mail(_mail("Inzage graag.", reply_to=SENDER.upper()))
    facts = requester_facts(
        mail, "Inzage graag.", ["access"], sender_known=True, id_attached_kind="none"
    )
    assert not facts.reply_to_differs


@pytest.mark.parametrize("text", ["l'" * 60_000, "a " * 100_000, "send to " + "my " * 60_000])
def test_detectors_stay_fast_on_a_long_pathological_mail(text: str) -> None:
    # Before the patterns were bounded, texts like these took close to a minute.
    started = time.perf_counter()
    writes_for_someone_else(text)
    asks_answer_elsewhere(text)
    changes_account_email(text, ["rectification"])
    assert time.perf_counter() - started < 10
