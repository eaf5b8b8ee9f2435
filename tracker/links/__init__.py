"""Suggested links: stance of a text toward a claim, candidates, reviewers' link decisions."""
