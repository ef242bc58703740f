"""The UI-triggered campaign: one `CampaignRequest` parameter, rendered as a form.

Prefect turns the pydantic model into the deployment's parameter schema: described
fields become labelled inputs, enums become drop-downs, and the server refuses a run
whose parameters break the schema, naming the field.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from adforge.brief import load_brief_lenient
from adforge.brief_variants import MAX_VARIANTS
from flows.brand_content import brand_content
from flows.notify import notify_on_completion, notify_on_failure, notify_on_start


class Platform(StrEnum):
    instagram_post = "instagram_post"
    instagram_portrait = "instagram_portrait"
    instagram_story = "instagram_story"
    blog_header = "blog_header"
    blog_thumbnail = "blog_thumbnail"
    twitter_card = "twitter_card"


class Profile(StrEnum):
    classic = "classic"
    tiny = "tiny"
    gpu_24gb = "gpu-24gb"
    gpu_80gb = "gpu-80gb"


class Language(StrEnum):
    any = "any"
    en = "en"
    ko = "ko"
    zh = "zh"
    ja = "ja"


class Review(StrEnum):
    queue = "queue"
    manual = "manual"


class Selection(StrEnum):
    auto = "auto"
    manual = "manual"


class CampaignRequest(BaseModel):
    """What a person asks for from the Prefect UI's run form."""

    brief_uri: str = Field(
        title="Brief", min_length=1,
        description="Path of the campaign brief (CSV, XLSX, Parquet or JSON Lines), "
                    "as the worker sees it")
    brand_kit: str | None = Field(
        default=None, title="Brand kit",
        description="Path of the brand kit YAML; empty: the built-in kit")
    platforms: list[Platform] = Field(
        default=list(Platform), min_length=1, title="Platforms",
        description="Platform presets to render every product for")
    profile: Profile = Field(
        default=Profile.classic, title="Profile",
        description="Stage backends: classic (CPU, no weights), tiny, gpu-24gb, gpu-80gb")
    language: Language = Field(
        default=Language.any, title="Language",
        description="Render only the brief's rows in this language (any: every row)")
    review: Review = Field(
        default=Review.queue, title="Review",
        description="Canvases that fail a quality gate after their repairs: queue (wait "
                    "for `adforge approve|reject`) or manual (this run pauses for your "
                    "decisions in its resume form)")
    variants: int = Field(
        default=1, ge=1, le=MAX_VARIANTS, title="Variants",
        description="Backdrop variants of each product whose row has no `variants` "
                    "cell (each its own seed; a row's `styles` take turns). With more "
                    "than one, every variant is drafted cheaply first, then the best kept")
    draft: bool = Field(
        default=False, title="Drafts only",
        description="Draft every variant on the preview platform (512 px, fewest steps, "
                    "typeset, nothing delivered) and stop: the draft sheet is the result")
    selection: Selection = Field(
        default=Selection.auto, title="Selection",
        description="auto: keep the best-scoring drafts; manual: this run pauses with a "
                    "form listing each product's variants (a timeout keeps the auto pick)")
    keep: int = Field(
        default=1, ge=1, le=MAX_VARIANTS, title="Keep",
        description="Drafts kept per product and copy variant: 2 makes an A/B set")


def skus_in_language(brief_uri: str, language: Language) -> list[str] | None:
    """The SKUs whose copy is in `language`; None when every row is wanted."""
    if language is Language.any:
        return None
    parsed, _ = load_brief_lenient(Path(brief_uri), check_images=False)
    return [row.sku for row in parsed.rows
            if row.copy.language.split("-")[0] == language.value]


@flow(name="brand-content", log_prints=True, on_running=[notify_on_start],
      on_completion=[notify_on_completion], on_failure=[notify_on_failure])
def brand_content_manual(request: CampaignRequest) -> Any:
    """Run the campaign that `request` describes; artifacts appear on this run's page,
    and with `review: manual` its resume form asks for the review decisions. Its final
    state is the campaign's (`Completed`, `Partial` or `Failed`)."""
    # 1. Which rows: all of them, or those in the requested language
    skus = skus_in_language(request.brief_uri, request.language)
    # 2. The campaign itself, in this flow run (its artifacts land on this page)
    return brand_content.fn(
        brief=request.brief_uri, brand=request.brand_kit, profile=request.profile.value,
        platforms=[p.value for p in request.platforms], skus=skus,
        review=request.review.value, variants=request.variants, draft=request.draft,
        selection=request.selection.value, keep=request.keep)
