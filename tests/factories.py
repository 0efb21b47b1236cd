"""factory-boy factories, one per model, with the smallest valid defaults and traits for states.

Objects are added to `db.session` of the current app context and flushed (not committed), so they
have ids and the test client's requests see them. Commit before using a live server.

    user = UserFactory(verified=True)               # password: PASSWORD ("correct horse battery")
    mod = UserFactory(moderator=True)
    org = OrganizationFactory(owner=user)          # user becomes an owner member
    campaign = CampaignFactory(live=True, organization=org, created_by=user)
    RewardTierFactory(campaign=campaign, minimum_amount=5_000)
"""
from __future__ import annotations

import functools
from datetime import timedelta
from html import escape

import factory
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from webapp import clock
from webapp.accounts.models import OriginRegion, Role, User
from webapp.campaigns.models import (
    BudgetLine,
    Campaign,
    CampaignStatus,
    CampaignTransition,
    CampaignUpdate,
    Category,
    FundingModel,
    RewardTier,
)
from webapp.extensions import db
from webapp.payments.hosts.models import HostProfile, PayoutRoute, PayoutRouteKind, RouteStatus
from webapp.organizations.models import Invitation, LegalForm, Membership, Organization, OrgRole

PASSWORD = "correct horse battery"


@functools.cache
def password_hash(password: str) -> str:
    """scrypt is slow on purpose; hash each distinct test password once per run."""
    return generate_password_hash(password, method="scrypt")


def now():
    return clock.utcnow()  # looked up at call time, so a test that moves the clock moves factories


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    class Params:
        password = PASSWORD
        verified = factory.Trait(email_verified_at=factory.LazyFunction(now))
        moderator = factory.Trait(role=Role.MODERATOR)
        coordinator = factory.Trait(role=Role.COORDINATOR)
        admin = factory.Trait(role=Role.ADMIN)
        suspended = factory.Trait(suspended_at=factory.LazyFunction(now))

    email = factory.Sequence(lambda n: f"member{n}@example.org")
    name = factory.Faker("name")
    password_hash = factory.LazyAttribute(lambda o: password_hash(o.password))
    role = Role.MEMBER
    created_at = factory.LazyFunction(now)


class OriginRegionFactory(BaseFactory):
    class Meta:
        model = OriginRegion

    user = factory.SubFactory(UserFactory)
    region_code = "SN-DK"  # Dakar


class OrganizationFactory(BaseFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"cooperative-{n}")
    name = factory.Sequence(lambda n: f"Coopérative n° {n}")
    legal_form = LegalForm.COOPERATIVE
    country = "SN"
    description = ""
    created_at = factory.LazyFunction(now)

    @factory.post_generation
    def owner(org, create, user, **kwargs):
        """`OrganizationFactory(owner=user)` also makes `user` an owner member."""
        if user is not None:
            MembershipFactory(organization=org, user=user, role=OrgRole.OWNER)

    @factory.post_generation
    def editors(org, create, users, **kwargs):
        """`OrganizationFactory(editors=[a, b])` also makes them editor members."""
        for user in users or ():
            MembershipFactory(organization=org, user=user, role=OrgRole.EDITOR)


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    class Params:
        owner = factory.Trait(role=OrgRole.OWNER)
        editor = factory.Trait(role=OrgRole.EDITOR)

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = OrgRole.OWNER
    created_at = factory.LazyFunction(now)


class InvitationFactory(BaseFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = OrgRole.EDITOR
    invited_by = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(now)


class CampaignFactory(BaseFactory):
    """A draft in francs CFA: goal 1,000,000 XOF, all-or-nothing, from now for 30 days."""

    class Meta:
        model = Campaign
        exclude = ("created_by",)

    class Params:
        draft = factory.Trait(status=CampaignStatus.DRAFT)
        submitted = factory.Trait(status=CampaignStatus.SUBMITTED)
        live = factory.Trait(status=CampaignStatus.LIVE, launched_at=factory.SelfAttribute("starts_at"))
        succeeded = factory.Trait(
            status=CampaignStatus.SUCCEEDED,
            starts_at=factory.LazyFunction(lambda: now() - timedelta(days=40)),
            ends_at=factory.LazyFunction(lambda: now() - timedelta(days=10)),
            launched_at=factory.SelfAttribute("starts_at"),
        )
        failed = factory.Trait(
            status=CampaignStatus.FAILED,
            starts_at=factory.LazyFunction(lambda: now() - timedelta(days=40)),
            ends_at=factory.LazyFunction(lambda: now() - timedelta(days=10)),
            launched_at=factory.SelfAttribute("starts_at"),
        )

    organization = factory.SubFactory(OrganizationFactory)
    #: the member who created it (no relationship on the model: only created_by_id)
    created_by = factory.SubFactory(UserFactory, verified=True)
    created_by_id = factory.SelfAttribute("created_by.id")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    title = factory.Sequence(lambda n: f"Grain mill for village {n}")
    summary = "A shared mill so that families stop walking to town to grind millet."
    story_md = "We are raising money for a **mill**."
    story_html = "<p>We are raising money for a <strong>mill</strong>.</p>"
    category = Category.AGRICULTURE
    country = "SN"
    goal_amount = 1_000_000
    currency = "XOF"
    funding_model = FundingModel.ALL_OR_NOTHING
    status = CampaignStatus.DRAFT
    starts_at = factory.LazyFunction(now)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(days=30))
    created_at = factory.LazyFunction(now)


class RewardTierFactory(BaseFactory):
    class Meta:
        model = RewardTier

    campaign = factory.SubFactory(CampaignFactory)
    title = factory.Sequence(lambda n: f"Thank-you card {n}")
    description = ""
    minimum_amount = 10_000
    quantity_limit = None
    delivery_month = None


class CampaignTransitionFactory(BaseFactory):
    class Meta:
        model = CampaignTransition
        exclude = ("campaign",)

    campaign = factory.SubFactory(CampaignFactory)  # the model has campaign_id but no relationship
    campaign_id = factory.SelfAttribute("campaign.id")
    from_status = CampaignStatus.DRAFT
    to_status = CampaignStatus.SUBMITTED
    actor = factory.SubFactory(UserFactory)
    reason = None
    at = factory.LazyFunction(now)


class CampaignUpdateFactory(BaseFactory):
    class Meta:
        model = CampaignUpdate
        exclude = ("campaign",)

    campaign = factory.SubFactory(CampaignFactory)  # the model has campaign_id but no relationship
    campaign_id = factory.SelfAttribute("campaign.id")
    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"News {n}")
    body_md = "The mill arrived today."
    body_html = factory.LazyAttribute(lambda o: f"<p>{escape(o.body_md)}</p>")
    created_at = factory.LazyFunction(now)


# -- payments and mutual aid (added for tests/privacy; usable everywhere) --------------------------
from webapp.ledger.models import LedgerEntry  # noqa: E402
from webapp.mutual_aid.models import (  # noqa: E402
    Audience,
    ChannelPreference,
    DisasterEvent,
    EventKind,
    EventState,
    HelpCategory,
    HelpRequest,
    Notification,
    Offer,
    OfferState,
    Report,
    Severity,
    SolidarityCall,
    StandingCommitment,
    Urgency,
)
from webapp.payments.matching.models import MatchFund  # noqa: E402
from webapp.payments.models import ChargeTiming, Pledge, PledgeStatus  # noqa: E402


class PledgeFactory(BaseFactory):
    """A paid pledge of 10,000 XOF on a live campaign, by a signed-in member (with their address)."""

    class Meta:
        model = Pledge

    class Params:
        committed = factory.Trait(status=PledgeStatus.COMMITTED, charge_timing=ChargeTiming.ON_SUCCESS)

    campaign = factory.SubFactory(CampaignFactory, live=True)
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.user.email if o.user else "guest@example.org")
    reference = factory.Sequence(lambda n: f"pledge-ref-{n:06d}")
    client_token = factory.Sequence(lambda n: f"client-token-{n:06d}")
    status = PledgeStatus.PAID
    charge_timing = ChargeTiming.NOW
    amount = 10_000
    currency = factory.SelfAttribute("campaign.currency")
    charge_amount = factory.SelfAttribute("amount")
    charge_currency = factory.SelfAttribute("currency")
    provider = "sandbox"
    created_at = factory.LazyFunction(now)
    confirmed_at = factory.LazyFunction(now)


class LedgerEntryFactory(BaseFactory):
    class Meta:
        model = LedgerEntry

    key = factory.Sequence(lambda n: f"test-entry-{n}")
    kind = "charge"
    debit_account = "processor:sandbox"
    credit_account = "campaign:1"
    amount = 10_000
    currency = "XOF"
    cause = "pledge:1"
    occurred_at = factory.LazyFunction(now)


class MatchFundFactory(BaseFactory):
    class Meta:
        model = MatchFund

    name = factory.Sequence(lambda n: f"Fund {n}")
    institution = "Ville de Thiès"
    manager_id = factory.LazyAttribute(lambda o: UserFactory(role=Role.FUNDER).id)
    budget = 5_000_000
    currency = "XOF"
    starts_on = factory.LazyFunction(lambda: now().date())
    ends_on = factory.LazyFunction(lambda: now().date() + timedelta(days=90))
    created_at = factory.LazyFunction(now)


class DisasterEventFactory(BaseFactory):
    """An active flood over Littoral (Benin)."""

    class Meta:
        model = DisasterEvent

    slug = factory.Sequence(lambda n: f"flood-{n}")
    name = factory.Sequence(lambda n: f"Floods {n}")
    kind = EventKind.FLOOD
    severity = Severity.SEVERE
    starts_on = factory.LazyFunction(lambda: now().date())
    relief_organization = factory.SubFactory(OrganizationFactory, country="BJ")
    public_message = "The lagoon overflowed."
    fund_goal_amount = 5_000_000
    fund_currency = "XOF"
    state = EventState.ACTIVE
    created_by_id = factory.LazyAttribute(lambda o: UserFactory(coordinator=True).id)
    created_at = factory.LazyFunction(now)
    activated_at = factory.LazyFunction(now)


class OfferFactory(BaseFactory):
    class Meta:
        model = Offer

    owner = factory.SubFactory(UserFactory, verified=True)
    event = factory.SubFactory(DisasterEventFactory)
    category = HelpCategory.LODGING
    title = "A room for a family"
    description = "Dry, upstairs."
    capacity = 4
    latitude, longitude = 6.3654, 2.4183
    region_code = "BJ-LI"
    cell_lat, cell_lon = 63, 24
    contact_phone = "+229 97 11 22 33"
    contact_note = "Blue gate behind the market"
    state = OfferState.PUBLISHED
    created_at = factory.LazyFunction(now)


class HelpRequestFactory(BaseFactory):
    class Meta:
        model = HelpRequest

    requester = factory.SubFactory(UserFactory, verified=True)
    event = factory.SubFactory(DisasterEventFactory)
    category = HelpCategory.LODGING
    urgency = Urgency.CRITICAL
    household_size = 3
    description = "Our house is under water."
    latitude, longitude = 6.3654, 2.4183
    region_code = "BJ-LI"
    cell_lat, cell_lon = 63, 24
    address = "Lot 12, Akpakpa"
    contact_phone = "+229 96 44 55 66"
    created_at = factory.LazyFunction(now)
    state_changed_at = factory.LazyFunction(now)


class SolidarityCallFactory(BaseFactory):
    class Meta:
        model = SolidarityCall

    event = factory.SubFactory(DisasterEventFactory)
    user = factory.SubFactory(UserFactory, verified=True)
    audience = Audience.NEAR
    created_at = factory.LazyFunction(now)


class StandingCommitmentFactory(BaseFactory):
    class Meta:
        model = StandingCommitment

    user = factory.SubFactory(UserFactory, verified=True)
    region_code = "BJ-LI"
    max_amount = 5_000
    yearly_cap_amount = 20_000
    currency = "EUR"
    created_at = factory.LazyFunction(now)


class ChannelPreferenceFactory(BaseFactory):
    class Meta:
        model = ChannelPreference

    user_id = factory.LazyAttribute(lambda o: UserFactory().id)
    sms_number = "+22997000000"
    updated_at = factory.LazyFunction(now)


class NotificationFactory(BaseFactory):
    class Meta:
        model = Notification

    user_id = factory.LazyAttribute(lambda o: UserFactory().id)
    kind = "request_matched"
    params = factory.LazyFunction(lambda: {"category": "lodging"})
    created_at = factory.LazyFunction(now)


class ReportFactory(BaseFactory):
    class Meta:
        model = Report

    reporter = factory.SubFactory(UserFactory, verified=True)
    offer = factory.SubFactory(OfferFactory)
    reason = "This offer looks false."
    created_at = factory.LazyFunction(now)


class BudgetLineFactory(BaseFactory):
    class Meta:
        model = BudgetLine

    campaign = factory.SubFactory(CampaignFactory)
    title = factory.Sequence(lambda n: f"Budget line {n}")
    amount = 500_000
    required = True
    created_at = factory.LazyFunction(now)


class HostProfileFactory(BaseFactory):
    """A host serving Benin and Morocco in francs CFA and dirhams, with a 1.5 % fee."""

    class Meta:
        model = HostProfile

    organization = factory.SubFactory(OrganizationFactory, country="BJ")
    countries = factory.LazyFunction(lambda: ["BJ", "MA"])
    currencies = factory.LazyFunction(lambda: ["MAD", "XOF"])
    fee_basis_points = 150
    methods = factory.LazyFunction(lambda: ["bank_transfer", "mobile_money"])
    granted_by = factory.SubFactory(UserFactory, admin=True)
    granted_at = factory.LazyFunction(now)


class PayoutRouteFactory(BaseFactory):
    class Meta:
        model = PayoutRoute
        exclude = ("chosen_by",)

    organization = factory.SubFactory(OrganizationFactory, country="BJ")
    kind = PayoutRouteKind.HOST
    host = factory.SubFactory(HostProfileFactory)
    status = RouteStatus.ACCEPTED
    chosen_by = factory.SubFactory(UserFactory)
    chosen_by_id = factory.SelfAttribute("chosen_by.id")
    chosen_at = factory.LazyFunction(now)


# -- impact (issue 13) -------------------------------------------------------------------------------
from decimal import Decimal  # noqa: E402
from datetime import date  # noqa: E402

from webapp.impact.models import Beneficiary, Indicator, IndicatorSource, IndicatorValue  # noqa: E402
from webapp.progress_reports.models import ProgressReport  # noqa: E402


class ProgressReportFactory(BaseFactory):
    class Meta:
        model = ProgressReport

    campaign = factory.SubFactory(CampaignFactory, succeeded=True)
    title = "What the money did"
    body_md = "The well is dug."
    body_html = "<p>The well is dug.</p>"
    fanned_out_at = factory.LazyFunction(now)  # no email in tests unless they fan out themselves


class IndicatorFactory(BaseFactory):
    class Meta:
        model = Indicator

    campaign = factory.SubFactory(CampaignFactory, live=True)
    source = IndicatorSource.SDG
    sdg_goal = 6
    sdg_target = "6.1"
    unit = "households"
    baseline = Decimal("0")
    target = Decimal("120")
    target_date = date(2027, 6, 30)

    class Params:
        custom = factory.Trait(source=IndicatorSource.CUSTOM, sdg_goal=None, sdg_target=None,
                               title="Families with a tap at home")


class IndicatorValueFactory(BaseFactory):
    class Meta:
        model = IndicatorValue

    indicator = factory.SubFactory(IndicatorFactory)
    report = factory.SubFactory(ProgressReportFactory, campaign=factory.SelfAttribute("..indicator.campaign"))
    campaign_id = factory.SelfAttribute("indicator.campaign_id")
    value = Decimal("48")
    measured_on = factory.LazyFunction(date.today)


class BeneficiaryFactory(BaseFactory):
    class Meta:
        model = Beneficiary

    campaign = factory.SubFactory(CampaignFactory, live=True)
    phone = factory.Sequence(lambda n: f"+2299700{n:04d}")
    locale = "fr"
    consent_on = factory.LazyFunction(date.today)
