"""`flask demo load`: demo organizations, campaigns and one account per role; safe to run twice."""
from __future__ import annotations

from datetime import timedelta

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.accounts.models import OriginRegion, Role, User
from webapp.campaigns.models import Campaign, CampaignStatus, CampaignTransition, Category, FundingModel, RewardTier
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.markup import render_markdown
from webapp.money import exponent as minor_exponent
from webapp.payments import fx
from webapp.payments.matching.models import MatchApplicationStatus, MatchFund, MatchFundCampaign
from webapp.payments.models import ConnectedAccount, ExchangeRate
from webapp.organizations.models import LegalForm, Membership, Organization, OrgRole

demo = AppGroup("demo", help="Demo data for `make run`.")

DEMO_PASSWORD = "harambee-demo"

ACCOUNTS = [
    # email, name, role, locale, residence country, region, origin regions
    ("admin@harambee.test", "Ada Admin", Role.ADMIN, "en", "FR", "FR-IDF", []),
    ("moderator@harambee.test", "Moussa Moderator", Role.MODERATOR, "fr", "SN", "SN-DK", []),
    ("coordinator@harambee.test", "Chantal Coordinator", Role.COORDINATOR, "fr", "BJ", "BJ-LI", []),
    ("amina@harambee.test", "Amina Ait Ouarab", Role.MEMBER, "fr", "MA", "MA-09", []),
    ("kofi@harambee.test", "Kofi Houngbédji", Role.MEMBER, "fr", "BJ", "BJ-AQ", []),
    ("claire@harambee.test", "Claire Martin", Role.MEMBER, "fr", "FR", "FR-ARA", []),
    ("nurse@harambee.test", "Afiavi Dossou", Role.MEMBER, "fr", "FR", "FR-ARA", ["BJ-LI", "BJ-AQ"]),
    ("engineer@harambee.test", "Youssef El Idrissi", Role.MEMBER, "fr", "CA", "CA-QC", ["MA-09"]),
    ("member@harambee.test", "Maria Member", Role.MEMBER, "en", "GB", "GB-ENG", []),
    ("funder@harambee.test", "Fanny Funder (Métropole de Lyon)", Role.FUNDER, "fr", "FR", "FR-ARA", []),
    ("host@harambee.test", "Hawa Host (Finances Solidaires)", Role.MEMBER, "fr", "BJ", "BJ-LI", []),
]

ORGANIZATIONS = [
    ("tifaout-argan", "Coopérative Tifaout", LegalForm.COOPERATIVE, "MA", "MA-09", "amina@harambee.test",
     "A cooperative of 48 women in the Souss-Massa who harvest and press argan nuts by hand and sell the oil "
     "together, at a fair price, since 2009."),
    ("ganvie-ecotourisme", "Association Ganvié Écotourisme", LegalForm.ASSOCIATION, "BJ", "BJ-AQ", "kofi@harambee.test",
     "Villagers of the lake city of Ganvié who welcome visitors in their homes and guide them by pirogue; the "
     "income pays for the school canteen."),
    ("scop-pain-lyon", "SCOP Le Pain Partagé", LegalForm.COOPERATIVE, "FR", "FR-ARA", "claire@harambee.test",
     "A worker cooperative bakery in Lyon's Guillotière: twelve bakers, one member, one voice, organic flour "
     "from the Monts du Lyonnais."),
]

STORY = """## Why this matters

{why}

## What the money pays for

{what}

## Who decides

Every member has one voice: the general assembly voted this project and will report on how every
{currency} was spent.
"""

CAMPAIGNS = [
    # slug, org slug, title, summary, category, country, region, currency, goal (major), minimum,
    # model, status, days since start, days running, why, what, tiers [(title, minimum, limit, desc)]
    ("solar-argan-press", "tifaout-argan", "A solar press for the Tifaout argan cooperative",
     "Press argan oil with the sun instead of diesel, and save 30 hours of work a week.",
     Category.AGRICULTURE, "MA", "MA-09", "MAD", 85_000, None, FundingModel.ALL_OR_NOTHING, CampaignStatus.LIVE, 5, 40,
     "Our diesel press breaks down every month and costs more than a member earns.",
     "A solar-powered press, its installation and training for 48 members.",
     [("A bottle of argan oil", 250, 100, "250 ml of cold-pressed oil, sent from Agadir."),
      ("A visit to the cooperative", 1_500, 20, "A day with the women of Tifaout, lunch included.")]),
    ("literacy-tifaout", "tifaout-argan", "Reading and writing classes for our members",
     "Two evening classes a week so that every member can read her own contracts.",
     Category.EDUCATION, "MA", "MA-09", "MAD", 30_000, None, FundingModel.KEEP_IT_ALL, CampaignStatus.SUBMITTED, 1, 30,
     "Half of our members never went to school and sign contracts they cannot read.",
     "A teacher for one year, books and lamps.", []),
    ("ganvie-guest-huts", "ganvie-ecotourisme", "Three guest huts on stilts in Ganvié",
     "Welcome visitors on the lake and fund the school canteen with what they pay.",
     Category.TOURISM, "BJ", "BJ-AQ", "XOF", 6_000_000, 3_500_000, FundingModel.MINIMUM_OPTIMUM, CampaignStatus.LIVE,
     10, 45, "Visitors come for a day and leave; a night in the village triples what families earn.",
     "Wood, thatch and solar lamps for three huts built by the village carpenters.",
     [("A postcard from the lake", 5_000, None, "Written by the pupils of the canteen."),
      ("A night in a hut", 25_000, 40, "One night for two, dinner and pirogue tour included.")]),
    ("ganvie-guides", "ganvie-ecotourisme", "Train ten young guides",
     "A six-month course in history, languages and first aid for ten young people of Ganvié.",
     Category.EDUCATION, "BJ", "BJ-AQ", "XOF", 2_500_000, None, FundingModel.ALL_OR_NOTHING, CampaignStatus.DRAFT, 3, 30,
     "Young people leave the lake for Cotonou because there is no work for them here.",
     "Trainers, first-aid certificates and a stipend during the course.", []),
    ("ganvie-school-kitchen", "ganvie-ecotourisme", "A kitchen for the Ganvié school canteen",
     "Cook 300 school meals a day on the lake, with clean water and safe stoves.",
     Category.EDUCATION, "BJ", "BJ-AQ", "XOF", 1_500_000, None, FundingModel.ALL_OR_NOTHING, CampaignStatus.SUCCEEDED,
     50, 30, "The canteen cooks on open fires with lake water; children fall ill every rainy season.",
     "Improved stoves and pots, a water tank with a filter, and the cook's wage for six months.", []),
    ("cargo-bikes-pain-partage", "scop-pain-lyon", "Cargo bikes for Le Pain Partagé",
     "Deliver bread to neighbourhood canteens by bike instead of by van.",
     Category.ENVIRONMENT, "FR", "FR-ARA", "EUR", 12_000, None, FundingModel.KEEP_IT_ALL, CampaignStatus.LIVE, 2, 30,
     "Our van runs 40 km a day inside the city for deliveries a bike can do.",
     "Two electric cargo bikes, their insurance and a secure shed.",
     [("A loaf a week for a month", 40, None, "Collect it at the bakery."),
      ("Your name on a bike", 150, 30, "Painted on the box of the bike.")]),
    ("pain-partage-oven", "scop-pain-lyon", "A new wood-fired oven",
     "Replace our 30-year-old oven with an efficient one that burns half the wood.",
     Category.CRAFTS, "FR", "FR-ARA", "EUR", 20_000, None, FundingModel.ALL_OR_NOTHING, CampaignStatus.SUCCEEDED, 60, 30,
     "The old oven lost heat and burned wood from far away.",
     "The oven, its chimney and two days of training.", []),
]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def load_accounts() -> int:
    added = 0
    for email, name, role, locale, country, region, origins in ACCOUNTS:
        if _user(email) is not None:
            continue
        user = User(email=email, name=name, role=role, locale=locale, residence_country=country,
                    residence_region=region, email_verified_at=utcnow())
        user.set_password(DEMO_PASSWORD)
        user.origin_regions = [OriginRegion(region_code=code) for code in origins]
        db.session.add(user)
        added += 1
    db.session.flush()
    return added


def load_organizations() -> int:
    added = 0
    for slug, name, form, country, region, owner_email, description in ORGANIZATIONS:
        if db.session.scalar(select(Organization).where(Organization.slug == slug)) is not None:
            continue
        org = Organization(slug=slug, name=name, legal_form=form, country=country, region=region,
                           description=description)
        db.session.add(org)
        db.session.flush()
        db.session.add(Membership(organization_id=org.id, user_id=_user(owner_email).id, role=OrgRole.OWNER))
        added += 1
    db.session.flush()
    return added


def load_campaigns() -> int:
    moderator = _user("moderator@harambee.test")
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    added = 0
    for (slug, org_slug, title, summary, category, country, region, currency, goal, minimum, model, status,
         days_since_start, days, why, what, tiers) in CAMPAIGNS:
        if db.session.scalar(select(Campaign).where(Campaign.slug == slug)) is not None:
            continue
        org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
        owner = db.session.scalar(select(Membership).where(Membership.organization_id == org.id))
        exponent = 10 ** minor_exponent(currency)
        starts = now - timedelta(days=days_since_start)
        story = STORY.format(why=why, what=what, currency=currency)
        campaign = Campaign(
            organization_id=org.id, created_by_id=owner.user_id, slug=slug, title=title, summary=summary,
            story_md=story, story_html=render_markdown(story), category=category, country=country, region=region,
            currency=currency, goal_amount=goal * exponent,
            minimum_amount=minimum * exponent if minimum else None, funding_model=model,
            status=CampaignStatus.DRAFT, starts_at=starts, ends_at=starts + timedelta(days=days))
        db.session.add(campaign)
        db.session.flush()
        for tier_title, tier_min, limit, desc in tiers:
            db.session.add(RewardTier(campaign_id=campaign.id, title=tier_title, description=desc,
                                      minimum_amount=tier_min * exponent, quantity_limit=limit))
        _walk_to(campaign, status, owner.user_id, moderator)
        added += 1
    db.session.flush()
    return added


PATH = [CampaignStatus.SUBMITTED, CampaignStatus.APPROVED, CampaignStatus.LIVE]


def _walk_to(campaign: Campaign, target: CampaignStatus, organizer_id: int, moderator: User) -> None:
    """Record the same transitions a real campaign would have gone through."""
    if target == CampaignStatus.DRAFT:
        return
    steps = PATH[: PATH.index(target) + 1] if target in PATH else PATH + [target]
    for step in steps:
        actor = organizer_id if step == CampaignStatus.SUBMITTED else (moderator.id if step == CampaignStatus.APPROVED else None)
        db.session.add(CampaignTransition(campaign_id=campaign.id, from_status=campaign.status, to_status=step,
                                          actor_id=actor, at=campaign.starts_at))
        campaign.status = step
    if campaign.status in (CampaignStatus.LIVE, CampaignStatus.SUCCEEDED, CampaignStatus.FAILED):
        campaign.launched_at = campaign.starts_at


def load_rates() -> int:
    """The sample rate snapshot, once: real rates come from `flask fx import`."""
    if db.session.scalar(select(ExchangeRate.id).limit(1)) is not None:
        return 0
    data_dir = Path(current_app.config["FX_SNAPSHOT"]).parent
    return (fx.import_file((data_dir / "rates-snapshot.xml").read_bytes(), "rates-snapshot.xml")
            + fx.import_file((data_dir / "rates-extra.csv").read_bytes(), "rates-extra.csv"))


def load_match_funds() -> int:
    """The Métropole de Lyon matches the Lyon bakery's cargo bikes one for one, up to 2,000 EUR."""
    if db.session.scalar(select(MatchFund.id).where(MatchFund.name == "Lyon solidaire")) is not None:
        return 0
    today = utcnow().date()
    fund = MatchFund(name="Lyon solidaire", institution="Métropole de Lyon", manager_id=_user("funder@harambee.test").id,
                     budget=500_000, currency="EUR", ratio_numerator=1, ratio_denominator=1, cap_per_pledge=20_000,
                     cap_per_campaign=200_000, countries="FR", starts_on=today - timedelta(days=30),
                     ends_on=today + timedelta(days=365))
    db.session.add(fund)
    db.session.flush()
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "cargo-bikes-pain-partage"))
    db.session.add(MatchFundCampaign(fund_id=fund.id, campaign_id=campaign.id, status=MatchApplicationStatus.ACCEPTED))
    db.session.flush()
    return 1


def load_mutual_aid() -> int:
    """Helpers, an affected family and the diaspora around a flood-prone Littoral (webapp/mutual_aid/demo.py)."""
    from webapp.mutual_aid.demo import load_mutual_aid as load

    return load()


def load_memberships() -> int:
    """The Lyon bakery cooperative's membership: a free class open to all, and its members' yearly share.

    Maria is a friend of the bakery; Claire, a member-worker, paid her yearly dues in cash (recorded, waiting
    for a second editor's confirmation); Afiavi asked to join as a member and waits for an editor.
    """
    from webapp.membership import services as membership
    from webapp.membership.models import Admission, MembershipClass
    from webapp.money import Money
    from webapp.payments.recurring.models import SupportInterval

    org = db.session.scalar(select(Organization).where(Organization.slug == "scop-pain-lyon"))
    if org is None or db.session.scalar(select(MembershipClass.id).where(MembershipClass.organization_id == org.id)):
        return 0
    claire = _user("claire@harambee.test")
    friends = membership.create_class(org, claire, "Ami du fournil", None, None, Admission.OPEN, "EUR")
    members = membership.create_class(org, claire, "Sociétaire", Money(5_000, "EUR"), SupportInterval.YEARLY,
                                      Admission.APPROVAL, "EUR")
    membership.join(_user("member@harambee.test"), friends)
    worker = membership.join(claire, members)
    worker.decided_by_id = claire.id
    today = utcnow().date()
    membership.record_cash(worker, org, claire, Money(5_000, "EUR"), today, today + timedelta(days=364))
    membership.join(_user("nurse@harambee.test"), members)
    db.session.flush()
    return 3


def load_payout_accounts() -> int:
    """The Lyon bakery on Stripe Connect, onboarded in the sandbox (recipient agreement, transfers active), so
    its campaign's transfers leave after the hold. Only with the sandbox: a real account is made by onboarding."""
    if current_app.config["PAYMENT_PROVIDER"] != "sandbox":
        return 0
    org = db.session.scalar(select(Organization).where(Organization.slug == "scop-pain-lyon"))
    if org is None or db.session.scalar(select(ConnectedAccount.id).where(
            ConnectedAccount.organization_id == org.id)) is not None:
        return 0
    db.session.add(ConnectedAccount(organization_id=org.id,
                                    processor_account_id=f"acct_sandbox_organization-{org.id}-account",
                                    country=org.country, service_agreement="recipient", details_submitted=True,
                                    payouts_enabled=True, transfers_capability="active"))
    db.session.flush()
    return 1


def load_hosts() -> int:
    """A host for the Benin and Moroccan organizations, and the Ganvié kitchen's budget and expenses."""
    from webapp.payments.hosts.demo import load_hosts as load

    return load()


def load_all() -> dict[str, int]:
    return {"accounts": load_accounts(), "organizations": load_organizations(), "campaigns": load_campaigns(),
            "exchange rates": load_rates(), "match funds": load_match_funds(), "mutual aid": load_mutual_aid(),
            "progress reports": load_progress_reports(), "members": load_memberships(),
            "payout accounts": load_payout_accounts(), "hosts": load_hosts(),
            "progress reports on hosted campaigns": load_kitchen_report(), "pooled funds": load_pooled_fund(),
            "impact indicators": load_impact()}


def load_pooled_fund() -> int:
    """A hometown association with members and a round in voting on three proposals (webapp/governance/demo.py)."""
    from webapp.governance.demo import load_pooled_fund as load

    return load()


def load_progress_reports() -> int:
    from webapp.progress_reports.demo import load_progress_reports as load

    return load()


def load_impact() -> int:
    from webapp.impact.demo import load_impact as load

    return load()


def load_kitchen_report() -> int:
    from webapp.progress_reports.demo import load_kitchen_report as load

    return load()


@demo.command("load")
def load_command() -> None:
    """Load the demo data; what is already there is left alone."""
    counts = load_all()
    db.session.commit()
    click.echo("Demo data: " + ", ".join(f"{n} {what} added" for what, n in counts.items()))
    click.echo(f"Demo accounts use the password {DEMO_PASSWORD!r} (see README).")
