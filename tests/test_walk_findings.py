"""Findings of the walk through the paths (issue 11) that touch every page or several domains."""
from __future__ import annotations

import re

from flask import url_for


def test_every_page_names_a_favicon_that_exists(client):
    for page in (url_for("campaigns.home"), url_for("accounts.login"), "/no-such-page"):
        html = client.get(page).get_data(as_text=True)
        icons = re.findall(r'<link rel="icon" href="([^"]+)"', html)
        assert icons, page
        for href in icons:
            icon = client.get(href)
            assert icon.status_code == 200 and icon.mimetype in ("image/svg+xml", "image/png"), href


def test_french_region_names_that_pycountry_misspells_are_corrected():
    from webapp import geo

    assert geo.region_name("BJ-LI", "fr") == "Littoral" and geo.region_name("CM-LT", "fr") == "Littoral"
    assert dict(geo.regions_of("BJ", "fr"))["BJ-LI"] == "Littoral"
    assert geo.region_name("BJ-OU", "fr") == "Ouémé" and geo.region_name("CM-EN", "fr") == "Extrême-Nord"
    assert geo.region_name("BJ-LI", "en") == "Littoral"
    for language, names in geo.REGION_NAME_FIXES.items():  # every fix names a real region
        assert all(geo.is_region(code) for code in names), language
