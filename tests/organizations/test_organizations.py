"""Creating and editing organizations, who may do it, members, and the logo upload."""
from __future__ import annotations

import io
import random

import pytest
from flask import url_for
from PIL import Image

from tests.accounts.helpers import count, fresh, sign_in, text_of
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from webapp.extensions import db
from webapp.organizations.models import LegalForm, Membership, Organization, OrgRole
from webapp.storage import get_storage


def org_data(**overrides) -> dict:
    data = {"name": "Tifaout Argan", "legal_form": "cooperative", "country": "MA", "region": "MA-09",
            "description": "Women's argan cooperative in the Souss.", "website": "https://tifaout.example.org"}
    data.update(overrides)
    return data


def png_bytes(size=(64, 48), noise=False) -> bytes:
    if noise:
        # Random pixels do not compress: the PNG weighs about 3 bytes a pixel.
        image = Image.frombytes("RGB", size, random.Random(f"{size}").randbytes(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def with_logo(data: dict, content: bytes, filename="logo.png", content_type="image/png") -> dict:
    return {**data, "logo": (io.BytesIO(content), filename, content_type)}


@pytest.fixture
def owner(client):
    user = UserFactory(email="amina@example.org", verified=True)
    db.session.commit()
    sign_in(client, user)
    return user


@pytest.fixture
def org(owner):
    organization = OrganizationFactory(owner=owner, slug="tifaout", name="Tifaout", country="MA")
    db.session.commit()
    return organization


# -- creating -----------------------------------------------------------------------------------
@pytest.mark.parametrize("legal_form", [form.value for form in LegalForm])
def test_member_creates_an_organization_of_each_legal_form_and_owns_it(client, owner, legal_form):
    response = client.post(url_for("organizations.create"), data=org_data(legal_form=legal_form),
                           content_type="multipart/form-data")

    assert response.status_code == 302
    org = db.session.scalar(db.select(Organization))
    assert response.location == url_for("campaigns.organization", slug=org.slug)
    assert org.legal_form == LegalForm(legal_form)
    assert (org.name, org.country, org.region) == ("Tifaout Argan", "MA", "MA-09")
    assert org.website == "https://tifaout.example.org"
    [membership] = org.memberships
    assert (membership.user_id, membership.role) == (owner.id, OrgRole.OWNER)
    assert client.get(response.location).status_code == 200


def test_two_organizations_with_the_same_name_get_different_slugs(client, owner):
    client.post(url_for("organizations.create"), data=org_data())
    client.post(url_for("organizations.create"), data=org_data())

    slugs = db.session.scalars(db.select(Organization.slug)).all()
    assert len(slugs) == 2 and len(set(slugs)) == 2


@pytest.mark.parametrize(("overrides", "message"), [
    ({"legal_form": "company"}, "Not a valid choice."),
    ({"country": "XX", "region": ""}, "Choose a country from the list."),
    ({"country": "SN", "region": "MA-09"}, "Choose a region of the chosen country."),
    ({"name": ""}, "This field is required."),
    ({"website": "javascript:alert(1)"}, "Invalid URL."),
], ids=["legal-form", "country", "region-of-another-country", "no-name", "website"])
def test_invalid_organization_is_refused_with_a_message_and_not_created(client, owner, overrides, message):
    response = client.post(url_for("organizations.create"), data=org_data(**overrides))

    assert response.status_code == 400
    assert message in text_of(response)
    assert count(Organization) == 0


def test_creating_an_organization_needs_a_signed_in_member(client):
    response = client.post(url_for("organizations.create"), data=org_data())

    assert response.status_code == 302
    assert response.location.startswith(url_for("accounts.login"))
    assert count(Organization) == 0


# -- editing ------------------------------------------------------------------------------------
def test_editor_edits_the_organization(client):
    editor = UserFactory()
    org = OrganizationFactory(owner=UserFactory(), editors=[editor], slug="tifaout")
    db.session.commit()
    sign_in(client, editor)

    assert client.get(url_for("organizations.edit", slug="tifaout")).status_code == 200
    response = client.post(url_for("organizations.edit", slug="tifaout"),
                           data=org_data(name="Tifaout (renamed)", legal_form="association"))

    assert response.status_code == 302
    org = fresh(org)
    assert (org.name, org.legal_form, org.slug) == ("Tifaout (renamed)", LegalForm.ASSOCIATION, "tifaout")


def test_edit_form_shows_the_current_values(client, org):
    page = text_of(client.get(url_for("organizations.edit", slug=org.slug)))

    assert 'value="Tifaout"' in page
    assert '<option selected value="cooperative">' in page


def test_non_member_cannot_see_or_change_the_edit_page(client, org):
    sign_in(client, UserFactory())

    shown = client.get(url_for("organizations.edit", slug=org.slug))
    posted = client.post(url_for("organizations.edit", slug=org.slug), data=org_data(name="Hijacked"))
    members = client.get(url_for("organizations.members", slug=org.slug))

    assert (shown.status_code, posted.status_code, members.status_code) == (403, 403, 403)
    assert fresh(org).name == "Tifaout"


def test_unknown_organization_is_404(client, owner):
    assert client.get(url_for("organizations.edit", slug="nope")).status_code == 404


# -- members ------------------------------------------------------------------------------------
def test_removing_the_last_owner_is_refused(client, owner, org):
    [mine] = org.memberships

    response = client.post(url_for("organizations.remove_member", slug=org.slug, membership_id=mine.id),
                           follow_redirects=True)

    assert "An organization keeps at least one owner." in text_of(response)
    assert db.session.get(Membership, mine.id) is not None
    assert count(Membership, Membership.organization_id == org.id, Membership.role == OrgRole.OWNER) == 1


def test_an_owner_may_leave_when_another_owner_remains(client, owner, org):
    MembershipFactory(organization=org, user=UserFactory(), role=OrgRole.OWNER)
    mine = db.session.scalar(db.select(Membership).where(Membership.user_id == owner.id))
    db.session.commit()

    response = client.post(url_for("organizations.remove_member", slug=org.slug, membership_id=mine.id))

    assert response.status_code == 302
    assert count(Membership, Membership.organization_id == org.id) == 1


def test_owner_removes_an_editor(client, owner, org):
    editor_membership = MembershipFactory(organization=org, user=UserFactory(), role=OrgRole.EDITOR)
    db.session.commit()

    response = client.post(url_for("organizations.remove_member", slug=org.slug, membership_id=editor_membership.id))

    assert response.status_code == 302
    assert db.session.get(Membership, editor_membership.id) is None


def test_editor_cannot_remove_members(client):
    owner = UserFactory()
    editor = UserFactory()
    org = OrganizationFactory(owner=owner, editors=[editor])
    owner_membership = db.session.scalar(db.select(Membership).where(Membership.user_id == owner.id))
    db.session.commit()
    sign_in(client, editor)

    response = client.post(url_for("organizations.remove_member", slug=org.slug, membership_id=owner_membership.id))

    assert response.status_code == 403
    assert count(Membership, Membership.organization_id == org.id) == 2


def test_membership_of_another_organization_cannot_be_removed_through_this_one(client, owner, org):
    other = MembershipFactory(organization=OrganizationFactory(), user=UserFactory(), role=OrgRole.EDITOR)
    db.session.commit()

    response = client.post(url_for("organizations.remove_member", slug=org.slug, membership_id=other.id))

    assert response.status_code == 404
    assert db.session.get(Membership, other.id) is not None


# -- logo ---------------------------------------------------------------------------------------
def test_png_logo_is_accepted_and_stored_as_a_jpeg(client, owner):
    response = client.post(url_for("organizations.create"), data=with_logo(org_data(), png_bytes()))

    assert response.status_code == 302
    org = db.session.scalar(db.select(Organization))
    assert org.logo_key.endswith(".jpg")
    stored = get_storage().read(org.logo_key)
    assert stored[:2] == b"\xff\xd8"
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("JPEG", (64, 48))
    served = client.get(get_storage().url(org.logo_key))
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.data == stored


def test_large_logo_is_scaled_down(client, owner):
    client.post(url_for("organizations.create"), data=with_logo(org_data(), png_bytes(size=(1200, 300))))

    org = db.session.scalar(db.select(Organization))
    with Image.open(io.BytesIO(get_storage().read(org.logo_key))) as image:
        assert image.size == (600, 150)


def test_replacing_the_logo_deletes_the_old_file(client, org):
    client.post(url_for("organizations.edit", slug=org.slug), data=with_logo(org_data(), png_bytes()))
    first = fresh(org).logo_key

    client.post(url_for("organizations.edit", slug=org.slug), data=with_logo(org_data(), png_bytes(size=(10, 10))))
    second = fresh(org).logo_key

    assert first and second and first != second
    with pytest.raises(FileNotFoundError):
        get_storage().read(first)
    assert get_storage().read(second)[:2] == b"\xff\xd8"


def test_text_file_renamed_png_is_refused_with_a_clear_message(client, owner):
    response = client.post(url_for("organizations.create"),
                           data=with_logo(org_data(), b"just some text, not an image\n" * 10))

    assert response.status_code == 400
    assert "This file is not an image we can read." in text_of(response)
    assert count(Organization) == 0


def test_text_file_renamed_png_is_refused_when_editing_and_nothing_changes(client, org):
    response = client.post(url_for("organizations.edit", slug=org.slug),
                           data=with_logo(org_data(name="Changed"), b"<?php echo 1; ?>"))

    assert response.status_code == 400
    assert "This file is not an image we can read." in text_of(response)
    org = fresh(org)
    assert (org.name, org.logo_key) == ("Tifaout", None)


def test_logo_over_the_image_size_limit_is_refused(client, owner, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMAGE_BYTES", 1024 * 1024)
    big = png_bytes(size=(800, 600), noise=True)
    assert len(big) > 1024 * 1024

    response = client.post(url_for("organizations.create"), data=with_logo(org_data(), big))

    assert response.status_code == 400
    assert "The image is too large (at most 1 MB)." in text_of(response)
    assert count(Organization) == 0


def test_request_over_the_body_limit_is_refused_with_413(client, owner, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)

    response = client.post(url_for("organizations.create"),
                           data=with_logo(org_data(), png_bytes(size=(300, 300), noise=True)))

    assert response.status_code == 413
    assert "That file is too large." in text_of(response)
    assert count(Organization) == 0


def test_gif_is_accepted_but_a_pdf_is_not(client, owner):
    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, format="GIF")
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

    refused = client.post(url_for("organizations.create"), data=with_logo(org_data(), pdf, "logo.png"))
    accepted = client.post(url_for("organizations.create"), data=with_logo(org_data(), gif.getvalue(), "logo.gif",
                                                                           "image/gif"))

    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert count(Organization) == 1


@pytest.mark.parametrize("name", ["New", "Invitations"])
def test_organization_named_like_a_route_still_gets_reachable_pages(client, owner, name):
    response = client.post(url_for("organizations.create"), data=org_data(name=name))

    org = db.session.scalar(db.select(Organization))
    public = client.get(response.location)
    assert public.status_code == 200
    assert f"<h1 dir=\"auto\">{name}</h1>" in text_of(public)  # a name written by its organization: its own direction
    edit = client.get(url_for("organizations.edit", slug=org.slug))
    assert edit.status_code == 200 and f'name="name" required type="text" value="{name}"' in text_of(edit)
    members = client.get(url_for("organizations.members", slug=org.slug))
    assert members.status_code == 200 and "<h1>Members</h1>" in text_of(members)


def test_image_with_too_many_pixels_is_refused_before_decoding(client, owner):
    bomb = io.BytesIO()
    Image.new("1", (8000, 6000)).save(bomb, format="PNG")  # 48 million pixels in a few kilobytes

    response = client.post(url_for("organizations.create"), data=with_logo(org_data(), bomb.getvalue()))

    assert response.status_code == 400
    assert "The image has too many pixels." in text_of(response)
    assert count(Organization) == 0


@pytest.mark.parametrize("website", [
    "javascript://example.org/%0Aalert(document.cookie)",
    "data://example.org/text/html,<script>alert(1)</script>",
    "ftp://files.example.org/",
])
def test_website_must_be_a_web_address(client, owner, website):
    response = client.post(url_for("organizations.create"), data=org_data(website=website))

    assert response.status_code == 400
    assert count(Organization) == 0


def test_website_link_on_the_public_page_is_the_saved_address(client, owner):
    response = client.post(url_for("organizations.create"), data=org_data(website="http://tifaout.example.org/fr"))

    assert '<a href="http://tifaout.example.org/fr" rel="nofollow noopener">' in text_of(client.get(response.location))
