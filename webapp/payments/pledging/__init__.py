"""Pledging: a backer's pledge from the form to the processor's checkout, its state machine, saved methods."""
