"""Payouts: organizations' connected accounts and the transfer of a successful campaign's money."""
