"""`flask privacy ...`: the retention purge from the command line."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.extensions import db
from webapp.privacy.services import retention

privacy = AppGroup("privacy", help="Personal data: retention.")


@privacy.command("purge")
def purge() -> None:
    """Erase what is past its retention period (one batch of each kind; run again for more)."""
    counts = retention.purge_all()
    db.session.commit()
    for name, count in counts.items():
        click.echo(f"{name}: {count}")
