"""mailgate: checks items submitted by email against the submission rules and answers every sender."""

from mailgate.errors import ConfigurationError, MailgateError, RegistryError, StoreError

__version__ = "0.1.0"

__all__ = ["ConfigurationError", "MailgateError", "RegistryError", "StoreError", "__version__"]
