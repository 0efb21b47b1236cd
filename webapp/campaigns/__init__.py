"""Campaigns: stories, goals, reward tiers, moderation and discovery."""
