"""flinkswatch: watches Flinks data-provider registrations and alerts when they move."""

__version__ = "0.1.0"
