"""Models of the campaigns app; they arrive with its issue."""
