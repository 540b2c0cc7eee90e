"""Web commands: serve the desk, and manage its users."""
