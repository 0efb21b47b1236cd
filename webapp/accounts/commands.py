"""`flask users ...`: account administration from the command line."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.accounts import services
from webapp.accounts.models import Role
from webapp.extensions import db

users = AppGroup("users", help="Manage accounts.")


@users.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", default="Administrator", show_default=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create the first administrator, or make an existing account an administrator."""
    if len(password) < services.MIN_PASSWORD_LENGTH:
        raise click.BadParameter(f"use at least {services.MIN_PASSWORD_LENGTH} characters", param_hint="password")
    user = services.create_admin(email, password, name)
    db.session.commit()
    click.echo(f"{user.email} is an administrator.")


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def set_role(email: str, role: str) -> None:
    """Give an account a role: member, moderator, coordinator or admin."""
    user = services.find_by_email(email)
    if user is None:
        raise click.ClickException(f"no account uses {email}")
    services.set_role(user, Role(role))
    db.session.commit()
    click.echo(f"{user.email} is now {role}.")
