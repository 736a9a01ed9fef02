"""The customer pages that combine several apps (the pages of one app live in
that app's views)."""
