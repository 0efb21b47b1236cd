"""Money leaving or coming back to the platform balance: transfers and their reversals, payouts, disputes.

Every movement books a balance transaction shaped as https://docs.stripe.com/api/balance_transactions/object
(amount, fee, net, currency, created, available_on, type, source, reporting_category); the
reporting categories are those of https://docs.stripe.com/reports/reporting-categories.
"""
from __future__ import annotations

import copy
from typing import Any

from tests.fake_stripe.server import ApiError, FakeStripeError, invalid
from tests.fake_stripe.state import StripeState, as_bool, as_int, check_metadata, new_id

#: seconds a dispute gives the merchant to respond (the Dashboard shows evidence_details.due_by)
EVIDENCE_WINDOW = 7 * 86400
#: the fields of dispute.evidence (all null until the merchant submits some)
EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation",
    "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
    "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date",
    "service_documentation", "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation",
    "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
)


class BalanceEndpoints(StripeState):
    """Transfers, reversals, payouts and disputes, over the API and as controls for tests."""

    def _reset_state(self) -> None:
        super()._reset_state()
        #: Stripe returns the dispute fee with the funds when a dispute is won (set False to keep it)
        self.dispute_fee_returned_on_win = True

    # -- transfers ----------------------------------------------------------------------------
    def _create_transfer(self, p: dict) -> dict:
        account = self.get("account", p["destination"], "destination")
        if (account.get("capabilities") or {}).get("transfers") != "active":
            raise invalid("Your destination account needs to have at least one of the following capabilities "
                          "enabled: transfers, crypto_transfers, legacy_payments", "destination",
                          code="insufficient_capabilities_for_transfer")
        if "amount" not in p:
            raise invalid("Missing required param: amount.", param="amount", code="parameter_missing")
        amount = as_int(p["amount"], "amount")
        if amount < 1:
            raise invalid("Invalid positive integer", param="amount")
        currency = str(p["currency"]).lower()
        if p.get("source_transaction"):
            self._check_source(p["source_transaction"], amount, currency)
        else:
            self._need_funds(amount, currency, "amount")
        transfer = self.store({
            "id": new_id("tr"), "object": "transfer", "amount": amount, "amount_reversed": 0,
            "currency": currency, "destination": account["id"], "transfer_group": p.get("transfer_group"),
            "created": self.now(), "description": p.get("description"), "livemode": False,
            "metadata": check_metadata(p.get("metadata")), "reversed": False, "balance_transaction": None,
            "reversals": {"object": "list", "data": [], "has_more": False,
                          "url": "/v1/transfers/_/reversals"},
            "source_transaction": p.get("source_transaction"), "source_type": "card",
            "destination_payment": new_id("py"),
        })
        transfer["reversals"]["url"] = f"/v1/transfers/{transfer['id']}/reversals"
        txn = self.book(amount=-amount, currency=currency, type="transfer", source=transfer["id"],
                        reporting_category="transfer", available_now=True)
        transfer["balance_transaction"] = txn["id"]
        self.event("transfer.created", transfer, pending=True)
        return self.snapshot(transfer, p.get("expand"))

    def _check_source(self, charge_id: str, amount: int, currency: str) -> None:
        """A transfer tied to a charge is in the charge's balance currency and within what the charge brought.

        https://docs.stripe.com/connect/separate-charges-and-transfers#transfer-availability: the transfer
        draws on that charge's funds (pending ones included) rather than the available balance, and "the
        amount of the transfer must not exceed the amount of the source charge". Here: the charge's
        balance transaction's net, less what it refunded and what earlier transfers from it still hold.
        """
        charge = self.get("charge", charge_id, "source_transaction")
        txn = self.objects.get(charge.get("balance_transaction") or "")
        if charge["status"] != "succeeded" or txn is None:
            raise invalid(f"The source_transaction {charge_id} has not succeeded yet.", "source_transaction")
        if currency != txn["currency"]:
            raise invalid(f"The currency of source_transaction's balance transaction ({txn['currency']}) must be the "
                          f"same as the transfer currency ({currency})", "currency")
        refunded = -sum(self.objects[r["balance_transaction"]]["amount"] for r in self.of_kind("refund")
                        if r["charge"] == charge_id and r["status"] != "failed" and r.get("balance_transaction"))
        transferred = sum(t["amount"] - t["amount_reversed"] for t in self.of_kind("transfer")
                          if t.get("source_transaction") == charge_id)
        available = txn["net"] - refunded - transferred
        if amount > available:
            raise invalid(f"Transfer amount ({amount} {currency}) exceeds the amount available from "
                          f"source_transaction {charge_id} ({max(0, available)} {currency}).", "amount",
                          code="transfer_source_balance_parameters_mismatch")

    def _reverse_transfer(self, p: dict, ident: str) -> dict:
        transfer = self.get("transfer", ident)
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = as_int(p["amount"], "amount") if "amount" in p else remaining
        if amount < 1 or amount > remaining:
            raise invalid(f"Reversal amount ({amount}) is greater than the remaining transfer amount "
                          f"({remaining}).", param="amount")
        reversal = self.store({
            "id": new_id("trr"), "object": "transfer_reversal", "amount": amount, "currency": transfer["currency"],
            "created": self.now(), "transfer": transfer["id"], "metadata": check_metadata(p.get("metadata")),
            "balance_transaction": None, "destination_payment_refund": None, "source_refund": None,
        })
        txn = self.book(amount=amount, currency=transfer["currency"], type="transfer_refund",
                        source=reversal["id"], reporting_category="transfer_reversal", available_now=True)
        reversal["balance_transaction"] = txn["id"]
        previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].insert(0, copy.deepcopy(reversal))
        self.event("transfer.reversed", transfer, previous, pending=True)
        return self.snapshot(reversal, p.get("expand"))

    # -- payouts ------------------------------------------------------------------------------
    def available_balance(self, currency: str) -> int:
        """What the platform could pay out now in `currency` (available balance transactions' net)."""
        now = self.now()
        return sum(t["net"] for t in self.balance_transactions
                   if t["currency"] == currency and (t["available_on"] <= now or t["status"] == "available"))

    def _need_funds(self, amount: int, currency: str, param: str) -> None:
        if self.check_balance and amount > self.available_balance(currency):
            raise ApiError(400, "You have insufficient funds in your Stripe account. One likely reason you have "
                           "insufficient funds is that your funds are automatically being paid out; try enabling "
                           "manual payouts by going to https://dashboard.stripe.com/account/payouts.",
                           code="balance_insufficient", param=param)

    def new_payout(self, amount: int, currency: str, *, automatic: bool, description: str | None = None,
                   metadata: dict | None = None, method: str = "standard") -> dict:
        self._need_funds(amount, currency, "amount")
        now = self.now()
        payout = self.store({
            "id": new_id("po"), "object": "payout", "amount": amount, "currency": currency,
            "arrival_date": now + 2 * 86400, "automatic": automatic, "balance_transaction": None,
            "created": now, "description": description, "destination": "ba_fake_platform_bank",
            "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
            "livemode": False, "metadata": dict(metadata or {}), "method": method, "source_type": "card",
            "statement_descriptor": None, "status": "pending", "type": "bank_account",
            "reconciliation_status": "not_applicable" if not automatic else "in_progress",
            "application_fee": None, "application_fee_amount": None, "original_payout": None,
            "payout_method": None, "reversed_by": None, "trace_id": {"status": "pending", "value": None},
        })
        txn = self.book(amount=-amount, currency=currency, type="payout", source=payout["id"],
                        reporting_category="payout", available_now=True, description="STRIPE PAYOUT")
        payout["balance_transaction"] = txn["id"]
        return payout

    def _create_payout(self, p: dict) -> dict:
        amount = as_int(p["amount"], "amount")
        if amount < 1:
            raise invalid("Invalid positive integer", param="amount")
        payout = self.new_payout(amount, str(p["currency"]).lower(), automatic=False,
                                 description=p.get("description"), metadata=check_metadata(p.get("metadata")),
                                 method=p.get("method") or "standard")
        self.event("payout.created", payout, pending=True)
        return self.snapshot(payout, p.get("expand"))

    def _list_payouts(self, p: dict) -> dict:
        items = self.of_kind("payout")
        if p.get("status"):
            items = [o for o in items if o["status"] == p["status"]]
        return self.page(items, {k: v for k, v in p.items() if k != "status"}, "/v1/payouts")

    def automatic_payout(self, currency: str = "eur") -> list[dict]:
        """Stripe's automatic payout runs: the whole available balance in `currency` leaves for the bank.

        Returns [payout.created] (empty when nothing is available); then finish_payout(id).
        """
        with self.lock:
            self.make_available()
            amount = self.available_balance(currency)
            if amount <= 0:
                return []
            paid_out = self._private.setdefault("_paid_out", set())
            covered = [t["id"] for t in self.balance_transactions
                       if t["currency"] == currency and t["id"] not in paid_out]
            payout = self.new_payout(amount, currency, automatic=True)
            covered.append(payout["balance_transaction"])
            paid_out.update(covered)
            self._private[payout["id"]] = {"transactions": covered}
            return [self.event("payout.created", payout)]

    def finish_payout(self, payout_id: str, *, failure_code: str | None = None) -> list[dict]:
        """The bank answers for a pending payout: [payout.paid], or with `failure_code` (e.g.
        "account_closed") [payout.failed] and a payout_failure balance transaction putting the money back."""
        with self.lock:
            payout = self.get("payout", payout_id)
            if payout["status"] not in ("pending", "in_transit"):
                raise FakeStripeError(f"payout {payout_id} is {payout['status']}")
            previous = {"status": payout["status"]}
            if failure_code is None:
                payout["status"] = "paid"
                if payout["automatic"]:
                    payout["reconciliation_status"] = "completed"
                return [self.event("payout.updated", payout, previous), self.event("payout.paid", payout)]
            txn = self.book(amount=payout["amount"], currency=payout["currency"], type="payout_failure",
                            source=payout["id"], reporting_category="payout_reversal", available_now=True,
                            description="STRIPE PAYOUT FAILURE")
            payout.update(status="failed", failure_code=failure_code, failure_balance_transaction=txn["id"],
                          failure_message="The bank account has been closed." if failure_code == "account_closed"
                          else "The payout failed.")
            return [self.event("payout.updated", payout, previous), self.event("payout.failed", payout)]

    def make_available(self) -> None:
        """Every pending balance transaction becomes available now (Stripe's available_on passes)."""
        with self.lock:
            now = self.now()
            for txn in self.balance_transactions:
                if txn["status"] == "pending":
                    txn.update(status="available", available_on=min(txn["available_on"], now))

    # -- disputes -----------------------------------------------------------------------------
    def open_dispute(self, charge: dict, amount: int | None = None, reason: str = "fraudulent", *,
                     inquiry: bool = False) -> list[dict]:
        """A dispute on a charge; see FakeStripe.dispute."""
        amount = charge["amount"] - charge["amount_refunded"] if amount is None else amount
        now = self.now()
        method = self.objects.get(charge.get("payment_method") or "") or {}
        dispute = self.store({
            "id": new_id("dp"), "object": "dispute", "amount": amount, "currency": charge["currency"],
            "balance_transactions": [], "charge": charge["id"], "payment_intent": charge["payment_intent"],
            "created": now, "reason": reason, "status": "warning_needs_response" if inquiry else "needs_response",
            "is_charge_refundable": inquiry, "livemode": False, "metadata": {},
            "evidence": {name: None for name in EVIDENCE_FIELDS},
            "evidence_details": {"due_by": now + EVIDENCE_WINDOW, "has_evidence": False, "past_due": False,
                                 "submission_count": 0, "enhanced_eligibility": {}},
            "enhanced_eligibility_types": [], "intended_submission_method": None,
            "network_reason_code": "10.4" if reason == "fraudulent" else None,
            "payment_method_details": {"type": method.get("type", "card"),
                                       "card": {"brand": (method.get("card") or {}).get("brand", "visa"),
                                                "case_type": "inquiry" if inquiry else "chargeback",
                                                "network_reason_code": "10.4"}},
        })
        charge["disputed"] = True
        self._private.setdefault(charge["id"], {})["dispute"] = dispute["id"]
        if inquiry:
            return [self.event("charge.dispute.created", dispute)]
        # a chargeback debits the balance as it opens: the created event already lists the withdrawal
        self._withdraw(dispute)
        return [self.event("charge.dispute.created", dispute), self.event("charge.dispute.funds_withdrawn", dispute)]

    def _withdraw(self, dispute: dict) -> None:
        settled, currency, rate = self._to_settlement(dispute["amount"], dispute["currency"])
        txn = self.book(amount=-settled, currency=currency, type="adjustment", source=dispute["id"],
                        fee=self.dispute_fee, reporting_category="dispute", exchange_rate=rate,
                        description=f"Chargeback withdrawal for {dispute['charge']}", fee_description="Dispute fee")
        dispute["balance_transactions"].append(self.snapshot(txn))
        dispute["is_charge_refundable"] = False

    def escalate_inquiry(self, dispute_id: str) -> list[dict]:
        """An inquiry becomes a chargeback: [charge.dispute.updated, charge.dispute.funds_withdrawn]."""
        with self.lock:
            dispute = self.get("dispute", dispute_id)
            if not dispute["status"].startswith("warning_"):
                raise FakeStripeError(f"dispute {dispute_id} is not an inquiry")
            previous = {"status": dispute["status"]}
            dispute["status"] = "needs_response"
            self._withdraw(dispute)
            return [self.event("charge.dispute.updated", dispute, previous),
                    self.event("charge.dispute.funds_withdrawn", dispute)]

    def close_dispute(self, dispute_id: str, *, won: bool) -> list[dict]:
        """The bank decides. Won: [charge.dispute.closed, charge.dispute.funds_reinstated] and the funds
        (and, with dispute_fee_returned_on_win, the fee) come back; lost: [charge.dispute.closed].
        An inquiry that is closed moves nothing ([charge.dispute.closed], status warning_closed)."""
        with self.lock:
            dispute = self.get("dispute", dispute_id)
            if dispute["status"] in ("won", "lost", "warning_closed", "prevented"):
                raise FakeStripeError(f"dispute {dispute_id} is already {dispute['status']}")
            previous = {"status": dispute["status"]}
            if dispute["status"].startswith("warning_"):
                dispute["status"] = "warning_closed"
                return [self.event("charge.dispute.closed", dispute, previous)]
            if not won:
                dispute["status"] = "lost"
                return [self.event("charge.dispute.closed", dispute, previous)]
            dispute["status"] = "won"
            withdrawal = dispute["balance_transactions"][0]
            fee = -withdrawal["fee"] if self.dispute_fee_returned_on_win else 0
            txn = self.book(amount=-withdrawal["amount"], currency=withdrawal["currency"], type="adjustment",
                            source=dispute["id"], fee=fee, reporting_category="dispute_reversal",
                            description=f"Chargeback reversal for {dispute['charge']}", fee_description="Dispute fee")
            dispute["balance_transactions"].append(self.snapshot(txn))
            return [self.event("charge.dispute.closed", dispute, previous),
                    self.event("charge.dispute.funds_reinstated", dispute)]

    def _update_dispute(self, p: dict, ident: str) -> dict:
        """Evidence: staged, or submitted (`submit` defaults to true) — then under review."""
        dispute = self.get("dispute", ident)
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            raise invalid(f"This dispute is {dispute['status']} and can no longer be updated.",
                          code="dispute_already_closed" if dispute["status"] in ("won", "lost") else None)
        previous: dict[str, Any] = {}
        if "evidence" in p:
            previous["evidence"] = copy.deepcopy(dispute["evidence"])
            dispute["evidence"].update({k: v for k, v in p["evidence"].items() if isinstance(v, str)})
            dispute["evidence_details"]["has_evidence"] = True
        if "metadata" in p:
            previous["metadata"] = dict(dispute["metadata"])
            for key, value in check_metadata(p["metadata"]).items():
                dispute["metadata"][key] = value
            for key in [k for k, v in (p["metadata"] or {}).items() if v == ""]:
                dispute["metadata"].pop(key, None)
        if as_bool(p.get("submit", "true"), "submit"):
            previous["status"] = dispute["status"]
            dispute["status"] = ("warning_under_review" if dispute["status"].startswith("warning_")
                                 else "under_review")
            dispute["evidence_details"]["submission_count"] += 1
        self.event("charge.dispute.updated", dispute, previous, pending=True)
        return self.snapshot(dispute, p.get("expand"))

    def _close_dispute(self, p: dict, ident: str) -> dict:
        """The merchant accepts the dispute (gives up): lost, or warning_closed for an inquiry."""
        dispute = self.get("dispute", ident)
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            raise invalid(f"This dispute is {dispute['status']} and cannot be closed.")
        previous = {"status": dispute["status"]}
        dispute["status"] = "warning_closed" if dispute["status"].startswith("warning_") else "lost"
        self.event("charge.dispute.closed", dispute, previous, pending=True)
        return self.snapshot(dispute, p.get("expand"))

    def _list_disputes(self, p: dict) -> dict:
        items = self.of_kind("dispute")
        for name in ("charge", "payment_intent"):
            if p.get(name):
                items = [o for o in items if o[name] == p[name]]
        return self.page(items, {k: v for k, v in p.items() if k not in ("charge", "payment_intent")},
                         "/v1/disputes")

    def open_dispute_of(self, charge_id: str) -> dict | None:
        ident = self._private.get(charge_id, {}).get("dispute")
        return self.objects.get(ident) if ident else None
