"""Slack notifications when a campaign completes or fails, through a Prefect block.

The message goes through Prefect's `CustomWebhookNotificationBlock` in Slack's incoming
webhook format (`{"text": ...}`), so any Slack webhook URL works, and so does a local
endpoint in tests. Nothing is sent when `notifications.slack_webhook_url` is unset.
"""

from __future__ import annotations

from typing import Any

from prefect.blocks.notifications import CustomWebhookNotificationBlock

from adforge.settings import load_settings


def slack_block(url: str) -> CustomWebhookNotificationBlock:
    """A notification block that posts Slack's webhook payload to `url`."""
    return CustomWebhookNotificationBlock(
        name="adforge-slack", url=url, method="POST",
        json_data={"text": "*{{subject}}*\n{{body}}"},
        secrets={}, timeout=10)


def campaign_message(flow_run: Any, state: Any) -> tuple[str, str]:
    """Subject and body for a finished flow run."""
    subject = f"AdForge {flow_run.name}: {state.name}"
    body = f"flow run {flow_run.id} ({flow_run.flow_id}) ended {state.type.value}"
    if state.message:
        body += f"\n{state.message}"
    return subject, body


def _notify(flow_run: Any, state: Any, wanted: str) -> None:
    settings = load_settings().notifications  # a hook: also after a flow that failed early
    if settings.slack_webhook_url is None or not getattr(settings, wanted):
        return
    subject, body = campaign_message(flow_run, state)
    slack_block(settings.slack_webhook_url.get_secret_value()).notify(body, subject=subject)


def notify_on_completion(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: post to Slack when the campaign completes."""
    _notify(flow_run, state, "on_completion")


def notify_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: post to Slack when the campaign fails."""
    _notify(flow_run, state, "on_failure")
