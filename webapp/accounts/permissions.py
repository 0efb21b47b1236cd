"""Decorators that keep a route to the roles allowed on it."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from webapp.accounts.models import Role


def role_required(*roles: Role):
    """Signed-in users with one of these roles (admins always pass); 403 for the rest."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
