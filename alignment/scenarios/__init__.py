"""The project's own scenarios and the seeded story generator that writes them (see ``stories``)."""
