"""Promo codes on the campaigns side: their campaign and segment eligibility."""
