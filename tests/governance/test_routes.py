"""The pages of a round: voting signed in or by the emailed link, the receipt, changing, the published ballots."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.governance.helpers import fund_world, voter
from webapp.extensions import db
from webapp.governance import ballots, tally
from webapp.governance.models import Ballot, RoundState


def _link_token(link: str) -> str:
    return link.rsplit("/vote/", 1)[1]


def test_a_member_votes_sees_the_receipt_once_and_can_change_the_ballot(signed_in):
    w = fund_world(2)
    client = signed_in(w.users[0])
    p1, p2, _ = w.proposals
    response = client.post(f"/rounds/{w.round.id}/vote", data={"proposal": [str(p1.id)]})
    assert response.status_code == 302 and response.location.endswith(f"/rounds/{w.round.id}/receipt")
    page = client.get(f"/rounds/{w.round.id}/receipt").get_data(as_text=True)
    code = re.search(r'id="receipt-code" dir="ltr"><strong>([A-Z2-7-]+)<', page).group(1)
    assert client.get(f"/rounds/{w.round.id}/receipt").headers["Cache-Control"] == "no-store"
    assert ballots.ballot_by_receipt(w.round, code).proposal_ids == [p1.id]
    assert code not in client.get(f"/rounds/{w.round.id}/receipt").get_data(as_text=True)  # shown once
    round_page = client.get(f"/rounds/{w.round.id}").get_data(as_text=True)
    assert "Change my ballot" in round_page
    assert client.post(f"/rounds/{w.round.id}/vote", data={"proposal": [str(p2.id)]}).status_code == 302
    db.session.expire_all()
    assert ballots.ballot_by_receipt(w.round, code).proposal_ids == [p2.id]
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) == 1


def test_the_emailed_link_votes_without_signing_in_once(client, mail_outbox):
    w = fund_world(1, voting=False)
    from webapp.governance import rounds

    rounds.open_voting(w.round, w.owner)
    db.session.commit()
    [message] = [m for m in mail_outbox if str(m["To"]) == w.users[0].email]
    link = re.search(r"https?://\S+/vote/\S+", message.get_body().get_content()).group(0)
    token = _link_token(link)
    assert client.get(f"/vote/{token}").status_code == 200
    response = client.post(f"/vote/{token}", data={"proposal": [str(w.proposals[0].id)]})
    assert response.status_code == 302
    assert voter(w, 0).voted and voter(w, 0).link_used
    replay = client.post(f"/vote/{token}", data={"proposal": [str(w.proposals[1].id)]})
    assert replay.status_code == 410 and b"already been used" in replay.data
    assert client.get(f"/vote/{token}").status_code == 410
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) == 1


def test_a_forged_link_is_refused_with_a_clear_message(client):
    w = fund_world(1)
    token = _link_token(ballots.vote_link(w.round, voter(w, 0)))
    db.session.commit()
    for forged in (token[:-3] + "abc", "nonsense", token.split(".")[0] + ".xyz"):
        response = client.get(f"/vote/{forged}")
        assert response.status_code == 400 and b"not valid" in response.data
        assert client.post(f"/vote/{forged}", data={"proposal": "1"}).status_code == 400


def test_a_link_expires_when_voting_closes(client):
    w = fund_world(1)
    token = _link_token(ballots.vote_link(w.round, voter(w, 0)))
    tally.close(w.round, w.owner)
    db.session.commit()
    response = client.get(f"/vote/{token}")
    assert response.status_code == 410 and b"expired" in response.data


def test_a_link_already_voted_by_signing_in_is_used_up(client):
    w = fund_world(1)
    token = _link_token(ballots.vote_link(w.round, voter(w, 0)))
    ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    db.session.commit()
    assert client.get(f"/vote/{token}").status_code == 410


def test_changing_with_the_receipt_needs_no_account(client):
    w = fund_world(1)
    code = ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    db.session.commit()
    assert client.get(f"/rounds/{w.round.id}/change").status_code == 200
    wrong = client.post(f"/rounds/{w.round.id}/change", data={"receipt": "AAAAA-BBBBB-CCCCC-DDDDD",
                                                              "proposal": [str(w.proposals[1].id)]})
    assert wrong.status_code == 404 and b"receipt code" in wrong.data
    ok = client.post(f"/rounds/{w.round.id}/change", data={"receipt": code, "proposal": [str(w.proposals[1].id)]})
    assert ok.status_code == 302
    db.session.expire_all()
    assert ballots.ballot_by_receipt(w.round, code).proposal_ids == [w.proposals[1].id]


def test_bad_ballots_answer_400_with_the_reason(signed_in):
    w = fund_world(1)
    client = signed_in(w.users[0])
    over = client.post(f"/rounds/{w.round.id}/vote", data={"proposal": [str(p.id) for p in w.proposals]})
    assert over.status_code == 400 and b"budget" in over.data
    assert client.post(f"/rounds/{w.round.id}/vote", data={"proposal": ["x"]}).status_code == 400
    assert client.post(f"/rounds/{w.round.id}/vote", data={}).status_code == 400


def test_the_board_closes_and_the_ballots_are_published_and_searchable(signed_in, client):
    w = fund_world(2)
    codes = [ballots.cast(w.round, voter(w, i), [w.proposals[i].id]) for i in range(2)]
    board = signed_in(w.owner)
    assert b"published once voting closes" in client.get(f"/rounds/{w.round.id}/ballots").data
    assert board.post(f"/rounds/{w.round.id}/advance").status_code == 302
    db.session.expire_all()
    assert w.round.state == RoundState.COUNTED
    page = client.get(f"/rounds/{w.round.id}/ballots").get_data(as_text=True)
    assert page.count("<tr><td data-label") == 2
    found = client.post(f"/rounds/{w.round.id}/ballots", data={"receipt": codes[1]}).get_data(as_text=True)
    assert 'id="found-ballot"' in found and w.proposals[1].title in found
    missing = client.post(f"/rounds/{w.round.id}/ballots", data={"receipt": "AAAAA"}).get_data(as_text=True)
    assert "No counted ballot has this receipt code" in missing
    fund_page = client.get(f"/pooled-funds/{w.fund.id}").get_data(as_text=True)
    assert "Grant" in fund_page and "Projet 1" in fund_page
    assert board.post(f"/rounds/{w.round.id}/advance").status_code == 409  # nothing after the close


def test_a_draft_round_is_hidden_from_all_but_the_board(signed_in, client):
    w = fund_world(1, voting=False)
    from webapp.governance.models import FundingRound, RoundState as S

    w.round.state = S.DRAFT
    db.session.commit()
    assert client.get(f"/rounds/{w.round.id}").status_code == 404
    assert signed_in(w.owner).get(f"/rounds/{w.round.id}").status_code == 200
    assert db.session.get(FundingRound, w.round.id)


def test_on_a_shared_browser_the_next_member_cannot_change_the_first_ones_ballot(app):
    from tests.campaigns.helpers import sign_in

    w = fund_world(2)
    db.session.commit()
    client = app.test_client()
    sign_in(client, w.users[0])
    client.post(f"/rounds/{w.round.id}/vote", data={"proposal": [str(w.proposals[0].id)]})
    client.post("/account/logout")
    sign_in(client, w.users[1])
    assert b"Change my ballot" not in client.get(f"/rounds/{w.round.id}").data
    assert client.post(f"/rounds/{w.round.id}/vote", data={"proposal": [str(w.proposals[1].id)]}).status_code == 302
    again = client.post(f"/rounds/{w.round.id}/vote", data={"proposal": [str(w.proposals[2].id)]})
    db.session.expire_all()
    assert sorted(b.proposal_ids for b in db.session.scalars(select(Ballot))) == [[w.proposals[0].id],
                                                                                 [w.proposals[2].id]]
    assert again.status_code == 302  # the second member changed their own ballot, found by their own receipt


def test_a_refused_move_names_the_rounds_state_in_the_readers_language(signed_in):
    """The board's button on a closed round: the refusal says what the round is in French, never its code."""
    w = fund_world(2, quorum=100)
    tally.close(w.round, w.owner)  # no ballot: the quorum is not reached
    w.owner.locale = "fr"
    client = signed_in(w.owner)
    client.post("/language", data={"lang": "fr"})
    response = client.post(f"/rounds/{w.round.id}/advance")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Ce tour ne peut pas faire cela maintenant (il est clos)." in page.replace("\u202f", " ")
    assert "quorum_failed" not in page
    w.round.state = RoundState.COUNTED
    db.session.commit()
    page = client.post(f"/rounds/{w.round.id}/advance").get_data(as_text=True)
    assert "(il est clos et compté)" in page and "counted)" not in page


def test_a_round_closed_without_quorum_reads_closed_in_its_own_words(client):
    from flask_babel import force_locale

    from webapp.governance.labels import round_state

    with force_locale("fr"):
        assert round_state(RoundState.QUORUM_FAILED) == "clos"
        assert round_state("voting") == "ouvert au vote"
    with force_locale("en"):
        assert round_state("quorum_failed") == "closed"


def test_the_vote_link_email_writes_the_budget_and_the_closing_date_in_the_members_language(mail_outbox):
    from webapp.governance import rounds

    w = fund_world(1, voting=False)
    w.users[0].locale = "fr"
    rounds.open_voting(w.round, w.owner)
    db.session.commit()
    [message] = [m for m in mail_outbox if str(m["To"]) == w.users[0].email]
    body = message.get_body().get_content()
    assert "300\u202f000" in body and "300,000" not in body  # French groups digits with a narrow no-break space
    closes = w.round.voting_closes_at
    assert f"{closes:%d/%m/%Y}" in body and f"{closes:%Y-%m-%d}" not in body and "UTC" in body
