"""This job's `tracker` commands; registered by tracker/cli.py.

Keep imports at the top of this module light (typer, the standard library): heavy
libraries are imported inside the commands, so `tracker build` starts fast.
"""


def register(app):
    """Add this job's commands to the `tracker` typer app."""
