"""The Celery application. Queues are split by kind of work so each can be scaled on its own."""

import gc
import os

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okrsignal.settings")

QUEUES = ("default", "webhooks", "sync", "scoring")

app = Celery("okrsignal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.autodiscover_tasks()

# Python's cyclic garbage collector looks for reference cycles after this many new container objects
# rather than its default 700. Workers parse and normalise vendor payloads by the thousand (pulls,
# backfills, webhook bursts): dicts and lists that hold no cycles and are freed as soon as their batch is
# written, and at the default rate walking them took a fifth of ingestion's Python time. Cycles that do
# form are still collected, less often.
WORKER_GC_THRESHOLD = 100_000


@worker_process_init.connect
def relax_the_collector(**_kwargs: object) -> None:
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
