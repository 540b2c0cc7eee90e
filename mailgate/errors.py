"""The one exception base of mailgate and its few subclasses."""


class MailgateError(Exception):
    """Base of every error mailgate raises on purpose."""


class ConfigurationError(MailgateError):
    """The configuration or the registry file is invalid."""


class RegistryError(ConfigurationError):
    """The unit and officer registry could not be loaded."""


class StoreError(MailgateError):
    """The database could not be read or written."""
