"""Interchange: claims out as schema.org ClaimReview, W3C PROV and CSV."""
