"""Collection: closing a campaign at its deadline, then charging or releasing its committed pledges."""
