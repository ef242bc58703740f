"""Thin Prefect tasks: resolve references, call the core and the backends, record.

Tasks pass small pydantic records (`ProductJob`, `Manifest`) and never images or tensors.
Only transient faults (`TransientError`) are retried.
"""
