from django.apps import AppConfig


class OkrsignalConfig(AppConfig):
    name = "okrsignal"
    verbose_name = "OKRSignal platform"

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals
        from django.db.backends.signals import connection_created

        from okrsignal import audit, database

        auth_signals.user_logged_in.connect(audit.on_user_logged_in, dispatch_uid="audit_login")
        auth_signals.user_logged_out.connect(audit.on_user_logged_out, dispatch_uid="audit_logout")
        auth_signals.user_login_failed.connect(audit.on_user_login_failed, dispatch_uid="audit_login_failed")
        connection_created.connect(
            database.warn_if_row_level_security_is_bypassed, dispatch_uid="rls_warning"
        )
