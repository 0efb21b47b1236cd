"""Fixtures for mutual aid: a coordinator, a relief organization in Benin, members placed on the map, events."""
from __future__ import annotations

from datetime import date

import pytest

from tests.factories import OrganizationFactory, OriginRegionFactory, UserFactory
from webapp.accounts.models import Role
from webapp.extensions import db
from webapp.money import Money
from webapp.mutual_aid.models import EventKind, HelpCategory, Severity, Urgency
from webapp.mutual_aid.services import events, posts

#: Cotonou (Littoral, BJ-LI) and places around it
COTONOU = (6.3654, 2.4183)
ABOMEY_CALAVI = (6.4485, 2.3557)  # Atlantique, BJ-AQ, 10 km north-west
PORTO_NOVO = (6.4969, 2.6289)  # Ouémé, BJ-OU, about 27 km east: outside the regions, inside a 50 km radius
PARAKOU = (9.3372, 2.6303)  # Borgou, BJ-BO, about 330 km north
LYON = (45.764, 4.8357)


def member(email: str, *, region: str | None = None, at: tuple[float, float] | None = None,
           origins: tuple[str, ...] = (), locale: str = "en", **kwargs):
    kwargs.setdefault("name", email.split("@")[0].title())
    user = UserFactory(email=email, verified=True, locale=locale,
                       residence_country=region[:2] if region else None, residence_region=region,
                       latitude=at[0] if at else None, longitude=at[1] if at else None, **kwargs)
    for code in origins:
        OriginRegionFactory(user=user, region_code=code)
    return user


def draft(org_id: int, **overrides) -> events.EventDraft:
    values = dict(name="Floods in Cotonou", kind=EventKind.FLOOD, severity=Severity.SEVERE, starts_on=date.today(),
                  relief_organization_id=org_id, public_message="The lagoon overflowed: families need shelter.",
                  region_codes=("BJ-LI", "BJ-AQ"), centre_latitude=None, centre_longitude=None, radius_km=None,
                  fund_goal=Money(5_000_000, "XOF"))
    values.update(overrides)
    return events.EventDraft(**values)


def offer_details(category=HelpCategory.LODGING, at=COTONOU, region="BJ-LI", capacity=4, **overrides):
    values = dict(category=category, title="A room for a family", description="Dry, upstairs.", capacity=capacity,
                  remote=False, available_from=None, available_until=None,
                  place=posts.Place(at[0] if at else None, at[1] if at else None, region),
                  contact_phone="+229 97 11 22 33", contact_note="Blue gate behind the market")
    values.update(overrides)
    return posts.OfferDetails(**values)


def request_details(category=HelpCategory.LODGING, at=COTONOU, region="BJ-LI", household=3, **overrides):
    values = dict(category=category, urgency=Urgency.CRITICAL, household_size=household,
                  description="Our house is under water.",
                  place=posts.Place(at[0] if at else None, at[1] if at else None, region),
                  address="Lot 12, Akpakpa", contact_phone="+229 96 44 55 66")
    values.update(overrides)
    return posts.RequestDetails(**values)


@pytest.fixture
def coordinator():
    return member("chantal@example.org", region="BJ-LI", role=Role.COORDINATOR)


@pytest.fixture
def relief_org():
    return OrganizationFactory(slug="croix-solidaire", name="Croix Solidaire du Bénin", country="BJ")


@pytest.fixture
def draft_event(coordinator, relief_org):
    return events.create_event(coordinator, draft(relief_org.id))


@pytest.fixture
def active_event(coordinator, relief_org):
    """An active flood over Littoral and Atlantique, committed (no member yet, so no call)."""
    event = events.create_event(coordinator, draft(relief_org.id))
    events.activate(event, coordinator)
    db.session.commit()
    return event

