"""The address shape lives in config (the catalog's pickup locations use it too); the customers'
API and the apps above it keep importing it from here."""

from config.addresses import AddressSerializer

__all__ = ["AddressSerializer"]
