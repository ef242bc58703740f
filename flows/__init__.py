"""Prefect flows: the campaign flow and the renditions flow."""

from adforge.prefect_env import configure_prefect_environment

configure_prefect_environment()
