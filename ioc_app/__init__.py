"""IOC: the operations-center dashboard for universities."""

__version__ = "0.1.0"
