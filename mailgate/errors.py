"""The one exception base of mailgate and its few subclasses."""


class MailgateError(Exception):
    """Base of every error mailgate raises on purpose."""


class ConfigurationError(MailgateError):
    """The configuration or the registry file is invalid."""


class RegistryError(ConfigurationError):
    """The unit and officer registry could not be loaded."""


class StoreError(MailgateError):
    """The database could not be read or written (unreachable, locked, failing): retry later."""


class StoreDataError(MailgateError):
    """The database refused the data of one piece of work (a constraint, a value it cannot take).

    Not an outage, and deliberately not a ``StoreError``: retrying the same data fails the same way, so
    the daemon counts it as that message's failure and goes on with the next."""


class InstanceLockedError(MailgateError):
    """Another `mailgate run` holds the store's instance lock."""


class SourceError(MailgateError):
    """A mailbox could not be reached or read; the daemon reconnects with backoff."""


class TransportError(MailgateError):
    """A reply could not be sent now; it is retried later."""


class PermanentTransportError(TransportError):
    """A reply can never be sent as it is (e.g. the server refused the recipient for good)."""


class ProcessingError(MailgateError):
    """A message could not be processed; it is retried a bounded number of times, then quarantined."""
