"""The desk: the intake queue, the rejection log, replay and users, shared by the web app and the CLI."""
