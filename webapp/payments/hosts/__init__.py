"""Hosts: institutions that receive an organization's money and pay its approved expenses."""
