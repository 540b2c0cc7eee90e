"""Integration tests against real servers: Dovecot for IMAP, an aiosmtpd sink for SMTP."""
