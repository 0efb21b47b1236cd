"""Entry point for Celery: `celery -A webapp.worker worker` and `celery -A webapp.worker beat`."""
from webapp import create_app

flask_app = create_app()
# Celery's -A looks for an attribute named `app` first: it must be the Celery app, not Flask's.
app = celery = flask_app.extensions["celery"]
