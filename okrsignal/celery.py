"""The Celery application. Queues are split by kind of work so each can be scaled on its own."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okrsignal.settings")

QUEUES = ("default", "webhooks", "sync", "scoring")

app = Celery("okrsignal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.autodiscover_tasks()
