"""Mutual-aid operations, one module per idea. They flush, never commit: the view or the task commits.

events      creating, activating, moving and closing disaster events
calls       recording solidarity calls in bulk, opening them, channel opt-outs
delivery    sending calls on each channel exactly once, with claims, retries and rate limits
posts       offers (sleeping and published) and help requests, with posting limits
matching    ranking offers for a request and requests for a helper; the match state machine
notices     what a member is told in-app and by email when their request or match moves
moderation  reports, hiding posts, suspending accounts
commitments standing commitments and their confirmation at activation
figures     the coordinator's live figures, the closing report and its HXL export
privacy     erasing contact details of closed events
"""
