"""The REST API at /api/v1/: thin adapters over the same services and selectors as the pages."""
