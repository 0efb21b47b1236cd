"""Names people read for a round's states, in their language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from webapp.governance.models import RoundState

#: what a round is doing now, to read after "it is": "This round cannot make that move now (it is …)"
ROUND_STATE_LABELS = {
    RoundState.DRAFT: _l("being set up"),
    RoundState.PROPOSALS: _l("taking proposals"),
    RoundState.VOTING: _l("open for voting"),
    RoundState.COUNTED: _l("closed and counted"),
    # its own string, with a context: translations make it agree with their word for a round
    RoundState.QUORUM_FAILED: lazy_pgettext("round state", "closed"),
}


def round_state(value: RoundState | str) -> str:
    """The label of a state, given as the enum or its stored code; an unknown code as it is."""
    try:
        return str(ROUND_STATE_LABELS[RoundState(value)])
    except ValueError:
        return str(value)
