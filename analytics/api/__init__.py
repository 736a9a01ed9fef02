"""The analytics endpoints of the POS API, mounted under /api/v1/."""
