from django.apps import AppConfig


class AlignmentConfig(AppConfig):
    name = "alignment"
    verbose_name = "Drift engine"

    def ready(self) -> None:
        # The 1:1 agenda (goals) gathers its parts from builders; the drift engine's findings are one.
        from alignment.agenda import drift_findings_section
        from goals.checkin_selectors import AGENDA_SECTION_BUILDERS

        if drift_findings_section not in AGENDA_SECTION_BUILDERS:
            AGENDA_SECTION_BUILDERS.append(drift_findings_section)
