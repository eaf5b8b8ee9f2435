"""Assisted capture: attributions found in a text, and draft claims proposed from them."""
