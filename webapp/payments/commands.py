"""CLI of the payments domain: `flask fx ...` (exchange rates), `flask campaigns close-due`, `flask ledger reconcile`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.extensions import db
from webapp.payments import fx

fx_group = AppGroup("fx", help="Exchange rates.")


@fx_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(files: tuple[Path, ...]) -> None:
    """Load ECB reference-rate XML files or CSV files of date,currency,units_per_euro."""
    for path in files:
        try:
            count = fx.import_file(path.read_bytes(), path.name)
        except fx.RateFileInvalid as exc:
            db.session.rollback()
            raise click.ClickException(f"{path}: {exc}") from None
        click.echo(f"{path.name}: {count} rates stored")
    db.session.commit()


@fx_group.command("refresh")
def refresh_command() -> None:
    """Fetch today's ECB rates from FX_ECB_URL (production only; never run in tests)."""
    import urllib.request

    url = current_app.config["FX_ECB_URL"]
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - a configured https URL
        count = fx.import_rates(fx.parse_ecb_xml(response.read()), "ecb")
    db.session.commit()
    click.echo(f"{count} rates stored from {url}")


campaigns_group = AppGroup("campaigns", help="Campaign deadlines.")


@campaigns_group.command("close-due")
def close_due_command() -> None:
    """Close every live campaign past its deadline, then charge or release its committed pledges."""
    from webapp.payments import batches
    from webapp.payments.collection import services as collection

    closed = batches.close_due_campaigns()
    for campaign_id in closed + [c for c in collection.campaigns_left_to_collect() if c not in closed]:
        report = batches.collect(campaign_id)
        click.echo(f"campaign {campaign_id}: {report.charged} charged, {report.needs_action} need the backer, "
                   f"{report.released} released, {report.collecting} bank debits on their way, "
                   f"{report.skipped} skipped")
    if not closed:
        click.echo("no campaign was due")


ledger_group = AppGroup("ledger", help="The ledger: reconciliation with the payment processor.")


@ledger_group.command("reconcile")
@click.option("--from", "first", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day of the period (UTC), YYYY-MM-DD.")
@click.option("--to", "last", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day of the period (UTC, included), YYYY-MM-DD.")
def reconcile_command(first, last) -> None:
    """List every difference between the ledger and the processor's balance transactions for a period.

    Exit status: 0 when they agree, 1 when there are differences, 2 when reconciliation cannot run.
    """
    from webapp.payments import reconcile
    from webapp.payments.providers import get_provider

    provider = get_provider()
    if not reconcile.supports_reconciliation(provider):
        click.echo(f"The {provider.name} provider keeps no balance history: reconciliation needs the stripe "
                   "provider (PAYMENT_PROVIDER=stripe).", err=True)
        raise SystemExit(2)
    if last < first:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    differences = reconcile.reconcile(first.date(), last.date(), provider)
    period = f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"
    for difference in differences:
        click.echo(difference.describe())
    if differences:
        click.echo(f"{len(differences)} difference(s) between the ledger and {provider.name} from {period}.")
        raise SystemExit(1)
    click.echo(f"The ledger and {provider.name} agree from {period}.")
