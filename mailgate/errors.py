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


#: Exception types whose text tends to quote their input (the bytes a codec choked on, the literal a
#: parser refused, a key, an assertion's values): of these only the type is said.
_QUOTING: tuple[type[BaseException], ...] = (ValueError, LookupError, AssertionError)
#: The longest reason said after the exception type.
REASON_LIMIT = 200


def describe(exc: BaseException) -> str:
    """``exc`` in a line safe to keep and log: its type and a short reason without control characters,
    or its type alone when its text may quote message content (a ``UnicodeDecodeError``'s bytes)."""
    name = type(exc).__name__
    if isinstance(exc, _QUOTING) and not isinstance(exc, MailgateError):
        return name
    text = "".join(c if c.isprintable() else " " for c in str(exc))
    reason = " ".join(text.split())
    if len(reason) > REASON_LIMIT:
        reason = reason[: REASON_LIMIT - 1] + "…"
    return f"{name}: {reason}" if reason else name
