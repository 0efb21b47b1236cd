"""Names people read for legal forms, in their language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.organizations.models import LegalForm

LEGAL_FORM_LABELS = {
    LegalForm.COOPERATIVE: _l("Cooperative"),
    LegalForm.ASSOCIATION: _l("Association"),
    LegalForm.MUTUAL: _l("Mutual"),
    LegalForm.FOUNDATION: _l("Foundation"),
    LegalForm.SOCIAL_ENTERPRISE: _l("Social enterprise"),
    LegalForm.INFORMAL_GROUP: _l("Informal community group"),
}
