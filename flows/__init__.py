"""Prefect flows: the campaign flow and the renditions flow.

Prefect's environment is set by whoever runs them (`adforge_app.prefect_env`), before
Prefect is first imported."""
