"""Download my data: every kind of record of the member, nothing of anyone else, safe in a spreadsheet."""
from __future__ import annotations

import csv
import io
import json
import zipfile

from flask import url_for

from tests.factories import PledgeFactory, UserFactory
from webapp.privacy.exporters import registered
from webapp.privacy.registry import exporter
from webapp.privacy.services import export

#: every record kind the export holds for a member who has them all
KINDS = ("profile", "roles", "origin_regions", "organization_memberships", "organization_invitations", "pledges",
         "saved_payment_methods", "match_funds_managed", "aid_offers", "aid_requests", "aid_matches",
         "solidarity_calls", "standing_commitments", "notification_preferences", "notifications",
         "aid_reports_made", "campaigns_created", "campaign_updates_written", "campaign_decisions",
         "login_sessions")


def test_the_export_holds_every_kind_of_record_of_a_member_who_has_them_all(world):
    data = export.gather(world.member)

    empty = [kind for kind in KINDS if not data.records.get(kind)]
    assert not empty, f"no rows for {empty}"
    profile = data.records["profile"][0]
    assert (profile["email"], profile["name"], profile["language"], profile["display_currency"],
            profile["residence_region"], profile["latitude"]) == (
        "afiavi.dossou@example.org", "Afiavi Dossou", "fr", "EUR", "BJ-LI", 6.37123)
    assert data.records["roles"] == [{"role": "funder"}]
    assert {r["reference"] for r in data.records["pledges"]} == {world.pledge.reference}
    pledge = data.records["pledges"][0]
    assert (pledge["amount"], pledge["currency"], pledge["tip"], pledge["status"]) == ("10000", "XOF", "500", "paid")
    assert pledge["message"].startswith("Courage to the village")
    assert {m["side"] for m in data.records["aid_matches"]} == {"helper", "requester"}
    assert len(data.records["aid_offers"]) == 2 and len(data.records["aid_requests"]) == 2
    assert {r["payment_method_reference"] for r in data.records["saved_payment_methods"]} == {"pm_Afiavi"}
    assert data.records["organization_invitations"][0]["email"] == "afiavi.dossou@example.org"
    assert "password_hash" not in json.dumps(data.records)
    assert [s["device"] for s in data.records["login_sessions"]] == ["Afiavi's Firefox"]
    assert "key_hash" not in json.dumps(data.records)


def test_the_export_holds_nothing_of_another_member(world):
    document = export.to_json(export.gather(world.member))

    for other in (world.stranger, world.requester, world.helper):
        assert other.email not in document
        assert other.name not in document
    for theirs in ("Zeynab", "pm_Zeynab", "Lot 3, Cadjèhoun", "stranger.elsewhere", "Rice and oil"):
        assert theirs not in document
    assert json.loads(document)["member_id"] == world.member.id


def test_the_zip_has_one_csv_per_kind_with_the_same_rows_as_the_json(world):
    data = export.gather(world.member)
    archive = zipfile.ZipFile(io.BytesIO(export.to_zip(data)))

    assert sorted(archive.namelist()) == sorted(f"{kind}.csv" for kind in data.records)
    for kind, rows in data.records.items():
        text = archive.read(f"{kind}.csv").decode("utf-8-sig")
        assert len(list(csv.DictReader(io.StringIO(text)))) == len(rows), kind


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralized():
    user = UserFactory(name='=HYPERLINK("http://evil.example","x")', email="formula@example.org")
    for start in ("+1 22", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"):
        PledgeFactory(user=user, message=start)
    PledgeFactory(user=user, message="plain 'words' = fine")
    archive = zipfile.ZipFile(io.BytesIO(export.to_zip(export.gather(user))))

    profile = next(csv.DictReader(io.StringIO(archive.read("profile.csv").decode("utf-8-sig"))))
    assert profile["name"] == '\'=HYPERLINK("http://evil.example","x")'
    messages = sorted(r["message"] for r in csv.DictReader(
        io.StringIO(archive.read("pledges.csv").decode("utf-8-sig"), newline="")))
    assert messages == sorted(["'+1 22", "'-2+3", "'@SUM(A1)", "'\tcmd", "'\rcmd", "plain 'words' = fine"])
    # The JSON keeps the member's words as they are: it is not read by a spreadsheet.
    assert json.loads(export.to_json(export.gather(user)))["records"]["profile"][0]["name"].startswith("=HYPER")


def test_a_domain_adds_its_records_by_registering_an_exporter(world):
    @exporter("tests")
    def export_test(user):
        return {"test_records": [{"member": user.id}]}

    try:
        assert export.gather(world.member).records["test_records"] == [{"member": world.member.id}]
    finally:
        from webapp.privacy import exporters

        exporters._EXPORTERS.remove(("tests", export_test))
    assert all(fn is not export_test for _d, fn in registered())


def test_the_download_is_the_signed_in_members_own_data_as_an_attachment(world, signed_in):
    client = signed_in(world.member)

    response = client.get(url_for("privacy.export_json"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"harambee-my-data-")
    assert response.headers["Cache-Control"] == "no-store"
    document = json.loads(response.get_data(as_text=True))
    assert document["records"]["profile"][0]["email"] == world.member.email
    assert world.stranger.email not in response.get_data(as_text=True)

    response = client.get(url_for("privacy.export_csv"))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "pledges.csv" in zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()


def test_downloads_need_a_signed_in_member(app, client):
    for endpoint in ("privacy.export_json", "privacy.export_csv", "privacy.index"):
        response = client.get(url_for(endpoint))
        assert response.status_code == 302 and "/account/login" in response.location


def test_downloads_are_rate_limited_per_member_across_both_formats(app, world, signed_in):
    app.config["PRIVACY_EXPORTS_PER_HOUR"] = 2
    try:
        client = signed_in(world.member)
        answers = [client.get(url_for(endpoint)).status_code
                   for endpoint in ("privacy.export_json", "privacy.export_csv", "privacy.export_json")]
        other = signed_in(world.stranger).get(url_for("privacy.export_json")).status_code
    finally:
        app.config["PRIVACY_EXPORTS_PER_HOUR"] = 5
    assert answers == [200, 200, 429]
    assert other == 200
