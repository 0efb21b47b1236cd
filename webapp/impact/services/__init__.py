"""Impact's business operations, by topic: indicators and values, beneficiaries, confirmations, what is shown."""
