"""Asking the people concerned and their signed, single-use, expiring links."""
from __future__ import annotations

import re
import time

import pytest
from flask import url_for
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import inspect, select

from webapp.extensions import db
from webapp.impact.models import Audience, Channel, ConfirmationAnswer, ConfirmationRequest, Verdict
from webapp.impact.services import confirmations
from webapp.impact.tasks import send_requests

LINK = re.compile(r"https?://\S+/impact/confirm/(\S+)")


def ask_and_send(value) -> list[ConfirmationRequest]:
    confirmations.ask(value)
    db.session.commit()
    send_requests(value.id)
    return list(db.session.scalars(select(ConfirmationRequest).where(ConfirmationRequest.value_id == value.id)
                                   .order_by(ConfirmationRequest.id)))


def token_of(request: ConfirmationRequest) -> str:
    return confirmations.token_for(request)


def english_client(app):
    """A visitor who chose English (a link otherwise opens in the language its message was written in)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def test_each_person_concerned_is_asked_once_by_their_channel(value, people, sms):
    requests = ask_and_send(value)

    by_audience = sorted((r.audience.value, r.channel.value) for r in requests)
    # two beneficiaries; the active member (who also backed: asked once, as a member); the guest backer.
    # Not the lapsed member, not the pledge that never took money.
    assert by_audience == [("backer", "email"), ("beneficiary", "email"), ("beneficiary", "sms"), ("member", "email")]
    assert len({r.person_key for r in requests}) == 4
    assert all(r.sent_at is not None and r.address is None for r in requests), "the address is dropped once sent"
    number, text, reference = sms.sent[0]
    assert number == "+22997000001" and reference.startswith("impact-")
    assert "48" in text and "Eau pour Ganvié" in text and LINK.search(text)
    assert "Est-ce vrai ?" in text, "written in the beneficiary's language"


def test_asking_again_adds_only_people_listed_since(value, people, sms, campaign):
    from tests.factories import BeneficiaryFactory

    ask_and_send(value)
    BeneficiaryFactory(campaign=campaign, phone="+22997000009", email=None)
    assert confirmations.ask(value) == 1
    db.session.commit()
    send_requests(value.id)
    assert len(sms.sent) == 2


def test_a_link_records_one_answer_then_is_refused_as_used(app, value, people, sms):
    request = ask_and_send(value)[0]
    token = token_of(request)
    client = english_client(app)

    page = client.get(url_for("impact.confirm", token=token))
    assert page.status_code == 200 and "48" in page.get_data(as_text=True)
    done = client.post(url_for("impact.confirm", token=token), data={"verdict": "confirm"})
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)

    replay = client.post(url_for("impact.confirm", token=token), data={"verdict": "doubt"})
    assert replay.status_code == 409 and "already been used" in replay.get_data(as_text=True)
    assert client.get(url_for("impact.confirm", token=token)).status_code == 409
    verdicts = list(db.session.scalars(select(ConfirmationAnswer.verdict)))
    assert verdicts == [Verdict.CONFIRM]


def test_the_service_refuses_a_second_answer_even_from_a_stale_request_object(value, people, sms):
    request = ask_and_send(value)[0]
    confirmations.answer(request, Verdict.CONFIRM, None, None)
    with pytest.raises(confirmations.LinkRefused) as refused:
        confirmations.answer(request, Verdict.DOUBT, None, None)  # the row says used, whatever the object holds
    assert refused.value.status == 409


def test_a_forged_link_is_refused_with_a_400(app, value, people, sms):
    token = token_of(ask_and_send(value)[0])
    client = app.test_client()
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    for bad in (tampered, "not-a-token",
                URLSafeTimedSerializer("another secret", salt=confirmations.SALT).dumps({"r": 1, "n": "x"}),
                URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="another-salt").dumps({"r": 1, "n": "x"})):
        response = client.post(url_for("impact.confirm", token=bad), data={"verdict": "confirm"})
        assert response.status_code == 400, bad
        assert "not valid" in response.get_data(as_text=True)
    assert db.session.scalar(select(ConfirmationAnswer.id)) is None


def test_a_signed_link_with_the_wrong_nonce_is_refused(app, value, people, sms):
    request = ask_and_send(value)[0]
    guessed = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=confirmations.SALT).dumps(
        {"r": request.id, "n": "0" * 32})
    assert app.test_client().get(url_for("impact.confirm", token=guessed)).status_code == 404


def test_an_expired_link_is_refused_with_a_410(app, value, people, sms, monkeypatch):
    request = ask_and_send(value)[0]
    days = app.config.get("IMPACT_LINK_DAYS", 30)
    real = time.time
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: real() - (days + 1) * 86400)
        old = token_of(request)
    response = app.test_client().post(url_for("impact.confirm", token=old), data={"verdict": "confirm"})
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert db.session.get(ConfirmationRequest, request.id).answered_on is None


def test_a_link_a_day_short_of_expiry_still_works(app, value, people, sms, monkeypatch):
    request = ask_and_send(value)[0]
    days = app.config.get("IMPACT_LINK_DAYS", 30)
    real = time.time
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: real() - (days - 1) * 86400)
        old = token_of(request)
    assert app.test_client().get(url_for("impact.confirm", token=old)).status_code == 200


def test_an_answer_names_nobody_and_cannot_be_joined_to_its_request(app, value, people, sms):
    request = ask_and_send(value)[0]
    client = app.test_client()
    client.post(url_for("impact.confirm", token=token_of(request)),
                data={"verdict": "doubt", "comment": "Only two wells work."})
    columns = {c.key for c in inspect(ConfirmationAnswer).columns}
    assert columns == {"id", "value_id", "campaign_id", "audience", "verdict", "comment", "signed_name",
                       "answered_on"}, "no column may point to a request, a person or an exact time"
    foreign = {fk.column.table.name for fk in ConfirmationAnswer.__table__.foreign_keys}
    assert foreign == {"impact_values", "campaigns"}


def test_a_comment_alone_needs_its_text(app, value, people, sms):
    token = token_of(ask_and_send(value)[0])
    response = english_client(app).post(url_for("impact.confirm", token=token), data={"verdict": "comment", "comment": " "})
    assert response.status_code == 400 and "Write your comment" in response.get_data(as_text=True)
    assert db.session.scalar(select(ConfirmationAnswer.id)) is None
    # the refused attempt did not use the link up
    assert english_client(app).post(url_for("impact.confirm", token=token), data={"verdict": "confirm"}).status_code == 200


def test_no_verdict_is_a_400_with_a_message(app, value, people, sms):
    token = token_of(ask_and_send(value)[0])
    response = app.test_client().post(url_for("impact.confirm", token=token), data={"verdict": "maybe"})
    assert response.status_code == 400


def test_a_value_once_asked_about_cannot_change(value, people, sms, report, indicator):
    from decimal import Decimal

    from webapp.impact.services import indicators

    ask_and_send(value)
    with pytest.raises(indicators.FieldError):
        indicators.record_value(report, indicator, Decimal("60"), value.measured_on, None)


def test_a_campaign_not_public_cannot_ask(value, people, campaign):
    from webapp.campaigns.models import CampaignStatus
    from webapp.errors import DomainError

    campaign.status = CampaignStatus.DRAFT
    with pytest.raises(DomainError):
        confirmations.ask(value)


def test_the_email_carries_a_working_link(app, value, people, sms, mail_outbox):
    ask_and_send(value)
    messages = [m for m in mail_outbox if m["To"] == "kossi@example.org"]
    assert len(messages) == 1
    body = messages[0].get_body(("plain",)).get_content()
    token = LINK.search(body).group(1)
    assert app.test_client().get(url_for("impact.confirm", token=token)).status_code == 200
    assert {m["To"] for m in mail_outbox} == {"kossi@example.org", "member@example.org", "guest@example.org"}


def test_the_link_opens_in_the_messages_language_unless_the_visitor_chose_one(app, value, people, sms):
    request = ask_and_send(value)[0]  # the first beneficiary, written to in French
    assert request.locale == "fr"
    fresh = app.test_client().get(url_for("impact.confirm", token=token_of(request)))
    assert 'lang="fr"' in fresh.get_data(as_text=True) and "Est-ce vrai ?" in fresh.get_data(as_text=True)
    chooser = app.test_client()
    with chooser.session_transaction() as session:
        session["lang"] = "en"
    assert "Is it true?" in chooser.get(url_for("impact.confirm", token=token_of(request))).get_data(as_text=True)
