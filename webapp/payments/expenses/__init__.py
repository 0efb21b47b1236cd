"""Expenses: what an organization draws from a campaign's money, against its budget lines."""
