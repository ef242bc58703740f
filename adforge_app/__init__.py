"""The application shell: the `adforge` command, the local Prefect service, and the
Prefect environment every process that runs flows from here starts with.

The top floor: it may import every package below it (deployments, flows, tasks, models,
adforge), and none of them imports it.
"""
