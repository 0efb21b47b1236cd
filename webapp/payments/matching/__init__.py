"""Match funds: institutions' budgets that top up citizens' pledges (models, services, forms, views)."""
