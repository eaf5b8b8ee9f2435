"""Ingest: document streams (KCNA JSON, plain text, saved HTML) into unread seed documents."""
