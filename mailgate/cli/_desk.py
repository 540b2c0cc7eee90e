"""Desk commands for the terminal: the queue, the rejection log, replay."""
