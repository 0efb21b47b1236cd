"""Entry point for Celery: `celery -A webapp.worker worker` and `celery -A webapp.worker beat`."""
from webapp import create_app

app = create_app()
celery = app.extensions["celery"]
