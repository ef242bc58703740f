"""Deployments: `prefect.yaml` and the local `serve` entry."""
