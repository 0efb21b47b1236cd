"""A member's data is theirs: downloading it, deleting one's account, retention periods and their purge.

Sits above the other domains (it reads their models and calls their services); none imports it.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.privacy import models  # noqa: F401  (the table, for create_all and the migrations check)
    from webapp.privacy.commands import privacy
    from webapp.privacy.exporters import load_builtin
    from webapp.privacy.settings import init_settings
    from webapp.privacy.views import blueprint

    init_settings(app)
    load_builtin()
    app.register_blueprint(blueprint)
    app.cli.add_command(privacy)
