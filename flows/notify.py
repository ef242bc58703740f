"""Slack notifications when a campaign starts (if asked), ends or fails, through a
Prefect block; and the words that say how a run ended.

The message goes through Prefect's `CustomWebhookNotificationBlock` in Slack's incoming
webhook format (`{"text": ...}`), so any Slack webhook URL works, and so does a local
endpoint in tests. Nothing is sent when `notifications.slack_webhook_url` is unset.

A finished campaign's final state carries `outcome_text` as its message (counts of
published, in-review and failed products, the run id, the duration, the report's link
and the first failures), so the completion and failure hooks post exactly that.
"""

from __future__ import annotations

from typing import Any

from prefect.blocks.notifications import CustomWebhookNotificationBlock

from adforge.settings import load_settings

FIRST = 3  # failures and held items named in a message


def slack_block(url: str) -> CustomWebhookNotificationBlock:
    """A notification block that posts Slack's webhook payload to `url`."""
    return CustomWebhookNotificationBlock(
        name="adforge-slack", url=url, method="POST",
        json_data={"text": "*{{subject}}*\n{{body}}"},
        secrets={}, timeout=10)


def outcome_text(result: dict[str, Any], markdown: bool = False) -> str:
    """How a campaign run ended, in a few lines (markdown for the UI's artifacts)."""
    counts = result.get("counts") or {}
    code = "`" if markdown else ""
    lines = [f"run {code}{result.get('run_id')}{code}: {counts.get('published', 0)} published, "
             f"{counts.get('in_review', 0)} in review, {counts.get('failed', 0)} failed"
             f" in {result.get('duration_s', 0):.0f} s"]
    report = result.get("report_url") or result.get("report")
    if report:
        lines.append(f"report: {report}")
    held = list((result.get("in_review") or {}).items())
    if held:
        lines.append(f"in review ({code}adforge review {result.get('run_id')}{code}): "
                     + "; ".join(f"{sku} {why}" for sku, why in held[:FIRST])
                     + (" ..." if len(held) > FIRST else ""))
    failed = list((result.get("failed") or {}).items())
    if failed:
        lines.append("failed: " + "; ".join(f"{sku}: {reason[:160]}"
                                            for sku, reason in failed[:FIRST])
                     + (" ..." if len(failed) > FIRST else ""))
    return ("\n\n" if markdown else "\n").join(lines)


def campaign_message(flow_run: Any, state: Any) -> tuple[str, str]:
    """Subject and body for a flow run that ended (its state's message says how)."""
    subject = f"AdForge {flow_run.name}: {state.name}"
    body = f"flow run {flow_run.id} ({flow_run.flow_id}) ended {state.type.value}"
    if state.message:
        body += f"\n{state.message}"
    return subject, body


def start_message(flow_run: Any) -> tuple[str, str]:
    """Subject and body for a campaign that starts: what it was asked to do."""
    parameters = flow_run.parameters or {}
    request = parameters.get("request") or parameters  # the UI form's one parameter
    brief = request.get("brief") or request.get("brief_uri")
    return (f"AdForge {flow_run.name}: started",
            f"flow run {flow_run.id} started: brief {brief}")


def _post(wanted: str, message: tuple[str, str]) -> None:
    settings = load_settings().notifications  # a hook: also after a flow that failed early
    if settings.slack_webhook_url is None or not getattr(settings, wanted):
        return
    subject, body = message
    slack_block(settings.slack_webhook_url.get_secret_value()).notify(body, subject=subject)


def notify_on_start(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: post to Slack when a campaign starts (`notifications.on_start`)."""
    _post("on_start", start_message(flow_run))


def notify_on_completion(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: post to Slack when the campaign completes (`Partial` included)."""
    _post("on_completion", campaign_message(flow_run, state))


def notify_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: post to Slack when the campaign fails."""
    _post("on_failure", campaign_message(flow_run, state))
