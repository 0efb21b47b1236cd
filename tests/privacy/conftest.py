"""A member who has a record of every kind, and the other people around them (whose data must stay out)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.campaigns.helpers import sign_in
from tests.factories import (
    CampaignFactory,
    CampaignTransitionFactory,
    CampaignUpdateFactory,
    ChannelPreferenceFactory,
    DisasterEventFactory,
    HelpRequestFactory,
    InvitationFactory,
    LedgerEntryFactory,
    MatchFundFactory,
    MembershipFactory,
    OfferFactory,
    OrganizationFactory,
    OriginRegionFactory,
    PledgeFactory,
    ReportFactory,
    SolidarityCallFactory,
    StandingCommitmentFactory,
    UserFactory,
)
from webapp.accounts.models import Role, User, UserSession
from webapp.extensions import db
from webapp.mutual_aid.models import HelpCategory
from webapp.mutual_aid.services import matching
from webapp.organizations.models import OrgRole
from webapp.payments.models import Pledge


@dataclass
class World:
    member: User
    requester: User  #: asked for the member's offer; matched
    helper: User  #: answered the member's request; matched
    stranger: User  #: has records of every kind too, none linked to the member
    pledge: Pledge
    guest_pledge: Pledge
    #: strings that identify the member, which must be gone after the erasure
    secrets: list[str]


def _records_of(user: User, event, campaign, label: str) -> Pledge:
    OriginRegionFactory(user=user, region_code="BJ-LI")
    pledge = PledgeFactory(user=user, campaign=campaign, message=f"Courage to the village — {label}",
                           display_name=user.name, tip_amount=500)
    OfferFactory(owner=user, event=event, title=f"Spare room of {label}", contact_phone=f"+229 90 {label[:2]}",
                 contact_note=f"Gate of {label}", category=HelpCategory.STORAGE)
    HelpRequestFactory(requester=user, event=event, address=f"House of {label}", contact_phone=f"+33 6 {label[:2]}",
                       description=f"{label} needs a roof", category=HelpCategory.TRANSPORT)
    SolidarityCallFactory(user=user, event=event, failure_reason=f"550 <{user.email}> mailbox full")
    StandingCommitmentFactory(user=user, customer_id=f"cus_{label}", payment_method_id=f"pm_{label}")
    ChannelPreferenceFactory(user_id=user.id, sms_number="+229970000" + str(user.id).zfill(2))
    MatchFundFactory(manager_id=user.id, name=f"Water fund {label[:2]}")  # the institution's, not personal
    return pledge


@pytest.fixture
def world() -> World:
    member = UserFactory(email="afiavi.dossou@example.org", name="Afiavi Dossou", verified=True, locale="fr",
                         display_currency="EUR", residence_country="BJ", residence_region="BJ-LI",
                         latitude=6.37123, longitude=2.43217, role=Role.FUNDER)
    requester = UserFactory(email="koffi.requester@example.org", name="Koffi Mensah", verified=True)
    helper = UserFactory(email="yawa.helper@example.org", name="Yawa Agbo", verified=True)
    stranger = UserFactory(email="stranger.elsewhere@example.org", name="Zeynab Stranger", verified=True)
    event = DisasterEventFactory()
    campaign = CampaignFactory(live=True)

    UserSession.open(member, "Afiavi's Firefox")  # a signed-in browser: a login record
    org = OrganizationFactory(owner=member, name="Coopérative des Tisserands")
    own_campaign = CampaignFactory(organization=org, created_by=member, title="Looms for Abomey")
    CampaignUpdateFactory(campaign=own_campaign, author=member, title="The looms arrived")
    CampaignTransitionFactory(campaign=own_campaign, actor=member)
    MembershipFactory(organization=org, user=stranger, role=OrgRole.OWNER)  # the member is not the last owner
    InvitationFactory(email=member.email, invited_by=stranger)
    InvitationFactory(email=stranger.email, invited_by=member)

    pledge = _records_of(member, event, campaign, "Afiavi")
    _records_of(stranger, event, campaign, "Zeynab")
    guest_pledge = PledgeFactory(user=None, email=member.email, campaign=campaign, display_name="Afi D.",
                                 message="From Lyon, Afiavi")
    LedgerEntryFactory(key=f"charge:pledge:{pledge.id}", cause=f"pledge:{pledge.id}", memo="Pledge",
                       credit_account=f"campaign:{campaign.id}", campaign_id=campaign.id)
    LedgerEntryFactory(key=f"tip:pledge:{pledge.id}", kind="tip", cause=f"pledge:{pledge.id}",
                       credit_account="platform:revenue", amount=500, memo="Tip to the platform")

    # The member's offer, asked for by the requester and accepted: a match.
    offer = OfferFactory(owner=member, event=event, title="Room at Afiavi's", contact_phone="+229 91 00 00 01",
                         contact_note="Ask for Afiavi Dossou")
    theirs = HelpRequestFactory(requester=requester, event=event, address="Lot 3, Cadjèhoun")
    match = matching.propose(offer, theirs, requester)
    matching.accept(match, member)
    # The member's request, answered by the helper and accepted: another match.
    mine = HelpRequestFactory(requester=member, event=event, address="Lot 12, Akpakpa, chez Afiavi",
                              contact_phone="+229 95 12 34 56", category=HelpCategory.GOODS)
    helpers_offer = OfferFactory(owner=helper, event=event, category=HelpCategory.GOODS, title="Rice and oil")
    other_match = matching.propose(helpers_offer, mine, helper)
    matching.accept(other_match, member)
    ReportFactory(reporter=member, offer=helpers_offer, reason="Not sure this is real")
    db.session.flush()
    secrets = ["afiavi.dossou@example.org", "Afiavi Dossou", "Afiavi", "6.37123", "2.43217", "+229 91 00 00 01",
               "+229 95 12 34 56", "Akpakpa", "Courage to the village — Afiavi", "pm_Afiavi", "cus_Afiavi",
               "+229970000" + str(member.id).zfill(2), "Afi D.", "From Lyon", "Afiavi's Firefox"]
    return World(member, requester, helper, stranger, pledge, guest_pledge, secrets)

