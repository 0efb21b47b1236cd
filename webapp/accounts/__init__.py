"""Accounts: members, their roles, profiles and authentication."""
