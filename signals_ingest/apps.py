from django.apps import AppConfig


class SignalsIngestConfig(AppConfig):
    name = "signals_ingest"
    verbose_name = "Execution signals"
