"""This job's Datasette hooks (a plugin of its own: entry point in pyproject.toml)."""
