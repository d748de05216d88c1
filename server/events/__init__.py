"""Public meetings (issue #10): events in the store, the service that runs them, the live stream attendees read,
calendars, transcripts, slides and the OParl import. The contracts between the parts: docs/events.md."""
