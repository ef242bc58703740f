"""AdForge core: Prefect-free and torch-free.

Importing this package (or any module under it) never imports Prefect or torch;
the CLI imports the flows lazily, inside the commands that run them.
"""

__version__ = "0.1.0"
