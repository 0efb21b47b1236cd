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
    Campaign,
    CampaignStatus,
    CampaignTransition,
    CampaignUpdate,
    Category,
    FundingModel,
    RewardTier,
)
from webapp.extensions import db
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
