"""Demo data for mutual aid: a flood-prone Littoral, a relief association, helpers, a family, the diaspora."""
from __future__ import annotations

from sqlalchemy import select

from webapp.accounts.models import OriginRegion, Role, User
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.mutual_aid.models import HelpCategory, Offer, OfferState
from webapp.mutual_aid.places import cell_of
from webapp.organizations.models import LegalForm, Membership, Organization, OrgRole

PASSWORD = "harambee-demo"

#: Cotonou's neighbourhoods by the lagoon flood almost every rainy season.
PEOPLE = [
    # email, name, locale, country, region, (lat, lon), origins
    ("helper@harambee.test", "Rodrigue Ahouansou", "en", "BJ", "BJ-LI", (6.3690, 2.4420), []),
    ("affected@harambee.test", "Sèna Hounkpè", "en", "BJ", "BJ-LI", (6.3580, 2.4460), []),
    ("student@harambee.test", "Jonas Agossou", "en", "CA", "CA-QC", (45.5017, -73.5673), ["BJ-LI"]),
]
#: existing demo accounts placed on the map (they have regions already)
PLACES = {"kofi@harambee.test": (6.4485, 2.3557), "coordinator@harambee.test": (6.3654, 2.4183)}

RELIEF_ORG = ("entraide-littoral", "Entraide Littoral", LegalForm.ASSOCIATION, "BJ", "BJ-LI", "kofi@harambee.test",
              "Neighbours of Cotonou's lagoon districts who shelter, feed and rebuild together after every flood.")

SLEEPING_OFFER = dict(category=HelpCategory.LODGING, title="A dry room for a family of up to 4 in Akpakpa",
                      description="Upstairs room with two mattresses, water and a fan. Children welcome.",
                      capacity=4, region_code="BJ-LI", latitude=6.3690, longitude=2.4420,
                      contact_phone="+229 97 12 34 56", contact_note="Blue gate behind the Akpakpa market")


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def load_mutual_aid() -> int:
    """Accounts, the relief association and a sleeping offer; what is already there is left alone."""
    added = 0
    for email, name, locale, country, region, (lat, lon), origins in PEOPLE:
        if _user(email) is not None:
            continue
        user = User(email=email, name=name, role=Role.MEMBER, locale=locale, residence_country=country,
                    residence_region=region, latitude=lat, longitude=lon, email_verified_at=utcnow())
        user.set_password(PASSWORD)
        user.origin_regions = [OriginRegion(region_code=code) for code in origins]
        db.session.add(user)
        added += 1
    for email, (lat, lon) in PLACES.items():
        user = _user(email)
        if user is not None and user.latitude is None:
            user.latitude, user.longitude = lat, lon
    db.session.flush()
    slug, name, form, country, region, owner, description = RELIEF_ORG
    if db.session.scalar(select(Organization).where(Organization.slug == slug)) is None and _user(owner):
        org = Organization(slug=slug, name=name, legal_form=form, country=country, region=region,
                           description=description)
        db.session.add(org)
        db.session.flush()
        db.session.add(Membership(organization_id=org.id, user_id=_user(owner).id, role=OrgRole.OWNER))
        added += 1
    helper = _user("helper@harambee.test")
    if db.session.scalar(select(Offer.id).where(Offer.owner_id == helper.id, Offer.state == OfferState.SLEEPING)) \
            is None:
        cell_lat, cell_lon = cell_of(SLEEPING_OFFER["latitude"], SLEEPING_OFFER["longitude"])
        db.session.add(Offer(owner_id=helper.id, state=OfferState.SLEEPING, cell_lat=cell_lat, cell_lon=cell_lon,
                             **SLEEPING_OFFER))
        added += 1
    db.session.flush()
    return added
