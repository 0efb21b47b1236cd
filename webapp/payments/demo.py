"""Demo data shared by the domains' demos: paid pledges booked in the ledger as a real close leaves them."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments.models import ChargeTiming, Pledge, PledgeStatus


def paid_pledges(campaign: Campaign, name: str, gifts: Iterable[tuple[int, datetime]],
                 backer: Callable[[int], tuple[str, str, str]]) -> int:
    """A paid pledge and its charge entry (booked when it was confirmed) for each (amount, confirmed at) of `gifts`,
    in the campaign's currency, so that the page's "raised" says what the ledger holds; `backer(n)` gives the n-th
    backer's (email, locale, display name). References and ledger keys are `demo-<name>-<n>` and
    `demo:charge:<campaign>:<n>`. Returns the sum."""
    total = 0
    for n, (amount, confirmed_at) in enumerate(gifts):
        email, locale, display_name = backer(n)
        total += amount
        db.session.add(Pledge(reference=f"demo-{name}-{n}", client_token=f"demo-{name}-client-{n:02d}-token-{campaign.id}",
                              campaign_id=campaign.id, email=email, locale=locale, display_name=display_name,
                              status=PledgeStatus.PAID, charge_timing=ChargeTiming.ON_SUCCESS, amount=amount,
                              currency=campaign.currency, charge_amount=amount, charge_currency=campaign.currency,
                              provider="sandbox", confirmed_at=confirmed_at))
        ledger.book(key=f"demo:charge:{campaign.id}:{n}", kind="charge", debit=ledger.processor("sandbox"),
                    credit=ledger.campaign_account(campaign.id), money=Money(amount, campaign.currency),
                    cause=f"demo:{name}:{n}", campaign_id=campaign.id, memo="Pledge",
                    occurred_at=confirmed_at)
    db.session.flush()
    return total
