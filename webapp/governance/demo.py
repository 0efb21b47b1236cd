"""Demo data of pooled funds: a hometown association whose members vote on three proposals."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.governance import funds, rounds
from webapp.governance.models import AllocationRule
from webapp.ledger import services as ledger
from webapp.membership import services as membership
from webapp.membership.models import Admission
from webapp.money import Money
from webapp.organizations.models import LegalForm, Membership, Organization, OrgRole

SLUG = "ouidah-natifs"
#: the association's board is Afiavi (a nurse in Lyon born near Ouidah); these members vote
MEMBERS = ("nurse@harambee.test", "kofi@harambee.test", "member@harambee.test", "engineer@harambee.test",
           "claire@harambee.test")
#: Kofi lives in Ouidah and reads SMS more than email (the log SMS channel shows his vote link in `make run`)
SMS_MEMBER, SMS_NUMBER = "kofi@harambee.test", "+229 97 00 00 11"
PROPOSALS = [
    ("Forage d'un puits au quartier Zomaï", "A borehole and a hand pump for 300 families who walk 2 km for water.",
     600_000),
    ("Fournitures pour l'école primaire de Djègbadji", "Books, slates and desks for six classes.", 300_000),
    ("Moulin à maïs du groupement des femmes", "A diesel mill the women's group runs and rents out.", 400_000),
]


def load_pooled_fund() -> int:
    """The Ouidah hometown association, its members' dues set apart in a pooled fund, a round in voting."""
    if db.session.scalar(select(Organization.id).where(Organization.slug == SLUG)) is not None:
        return 0
    board = db.session.scalar(select(User).where(User.email == MEMBERS[0]))
    if board is None:
        return 0
    org = Organization(slug=SLUG, name="Association des Natifs de Ouidah", legal_form=LegalForm.ASSOCIATION,
                       country="BJ", region="BJ-AQ", currency="XOF",
                       description="Ouidah's sons and daughters in Lyon, Paris and Montréal, and those at home, who "
                                   "put their dues together and decide, one member, one vote, what they pay for.")
    db.session.add(org)
    db.session.flush()
    db.session.add(Membership(organization_id=org.id, user_id=board.id, role=OrgRole.OWNER))
    db.session.flush()
    cls = membership.create_class(org, board, "Membre", None, None, Admission.OPEN, "XOF")
    for email in MEMBERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            member = membership.join(user, cls)
            if email == SMS_MEMBER:  # at home, rarely online: the vote link and the reminder come by SMS
                membership.set_contact(member, user, SMS_NUMBER, "sms", consent=True)
    # a year of dues, paid through the sandbox, on the association's account
    ledger.book(key=f"demo:dues:{org.id}", kind="recurring_charge", debit=ledger.processor("sandbox"),
                credit=ledger.organization_account(org.id), money=Money(1_800_000, "XOF"), cause=f"demo:{org.id}",
                memo="Dues (demo)")
    fund = funds.open_fund(org, board, "Caisse de solidarité de Ouidah",
                           "What the members set apart each year for projects at home.", "XOF")
    funds.assign(fund, board, Money(1_500_000, "XOF"))
    now = utcnow().replace(second=0, microsecond=0)
    rnd = rounds.create_round(fund, board, rounds.RoundSettings(
        title="Projets 2027", budget=Money(1_000_000, "XOF"), rule=AllocationRule.GREEDY,
        proposals_close_at=now + timedelta(days=1), voting_closes_at=now + timedelta(days=10), min_projects=1,
        quorum_percent=40, reminder_hours=48))
    rounds.open_proposals(rnd, board)
    for title, description, amount in PROPOSALS:
        rounds.submit_proposal(rnd, board, title, description, Money(amount, "XOF"))
    rounds.open_voting(rnd, board)
    return 1
