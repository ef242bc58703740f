"""One settings tree for AdForge: environment (`ADFORGE_` prefix), `.env`, or arguments.

Nested fields use a double underscore: `ADFORGE_COMPOSITE__HARMONISE=0.2`.
A profile (`adforge.profiles`) picks a backend per stage, a memory budget and model
settings; `ADFORGE_BACKENDS__SEGMENT=...` overrides one stage. The service side's
settings are here too: scale-out into chunks and GPU slots (`ADFORGE_SCALE__...`), and
notifications (`ADFORGE_NOTIFICATIONS__SLACK_WEBHOOK_URL=https://...`), and the results
webhook (`ADFORGE_DELIVERY__WEBHOOK_URL=https://...`, `ADFORGE_DELIVERY__WEBHOOK_SECRET`).
`ADFORGE_TEXT__MODE=edit|typeset` says who writes the copy (default: the profile's).
`ADFORGE_INPUTS__ALLOW_OUTSIDE=true` lets a brief or brand kit name files outside its own
folder (trusted local use only). A value that does not validate is a `SettingsError`
naming the environment variable (`load_settings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adforge.errors import SettingsError
from adforge.model_settings import ModelSettings
from adforge.profiles import ProfileName, StageBackends, profile_named
from adforge.specs import PRESETS, Placement
from adforge.text_mode import TextMode

__all__ = ["CompositeSettings", "DeliverySettings", "ImageLimits", "ModelSettings",
           "NotificationSettings", "ProfileName", "QualitySettings", "S3Settings",
           "ScaleSettings", "SegmentSettings", "Settings", "StageBackends", "TextSettings",
           "load_settings", "redact_url",
           "InputSettings", "CostSettings"]

ENV_PREFIX = "ADFORGE_"


class ImageLimits(BaseModel):
    max_pixels: int = Field(default=40_000_000, gt=0,
                            description="refuse input images above this many pixels (bombs)")
    min_side: int = Field(default=64, gt=0, description="refuse images with a shorter side")
    max_side: int = Field(default=4096, gt=0, description="downscale inputs above this side")
    max_bytes: int = Field(default=100_000_000, gt=0,
                           description="refuse input files larger than this, before reading")
    sheet_page_size: int = Field(default=40, ge=1, le=1000,
                                 description="products per contact-sheet page and per page "
                                             "of the HTML report (memory: one page's)")

    def decoding(self) -> dict[str, int]:
        """The limits `imageio.load_image` takes (the sheet's page size is not one)."""
        return self.model_dump(include={"max_pixels", "min_side", "max_side", "max_bytes"})


class InputSettings(BaseModel):
    """Which files a brief or a brand kit may name."""

    allow_outside: bool = Field(
        default=False, description="read image, logo and font files outside the brief's "
                                   "(or brand kit's) folder: for trusted local use only")


class SegmentSettings(BaseModel):
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0,
                                  description="below this a cutout is recorded as a warning")


class CompositeSettings(BaseModel):
    harmonise: float = Field(default=0.3, ge=0.0, le=1.0,
                             description="strength of colour harmonisation toward the backdrop")
    max_delta_e: float = Field(default=3.0, gt=0.0, le=20.0,
                               description="product colour tolerance: mean CIELAB ΔE in the mask")
    sharpen: float = Field(default=0.4, ge=0.0, le=2.0, description="unsharp-mask amount")
    contrast: float = Field(default=1.04, ge=0.8, le=1.3, description="tone contrast factor")
    placement: Placement = Field(default_factory=Placement,
                                 description="the product placement rule for every frame")


class S3Settings(BaseModel):
    """How to reach S3 (or an S3-compatible store). Credentials: boto3's standard chain."""

    endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint; "
                                     "None: AWS (or AWS_ENDPOINT_URL_S3 when set)")
    region: str | None = Field(default=None, description="region; None: AWS_DEFAULT_REGION")
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto", description="bucket in the host name (virtual) or in the path")
    retry_mode: Literal["standard", "adaptive"] = Field(
        default="standard", description="botocore retry mode (backoff on throttling, 5xx)")
    max_attempts: int = Field(default=4, ge=1, le=20,
                              description="botocore attempts per request, first one included")
    connect_timeout_s: float = Field(default=3.0, gt=0, description="TCP connect timeout")
    read_timeout_s: float = Field(default=20.0, gt=0, description="socket read timeout")
    multipart_threshold_mb: int = Field(default=16, ge=5,
                                        description="objects from this size go up multipart")
    multipart_chunk_mb: int = Field(default=8, ge=5, description="multipart part size")
    presign_expiry_s: int = Field(default=7 * 24 * 3600, ge=60, le=7 * 24 * 3600,
                                  description="lifetime of presigned links in reports")
    cache_control_immutable: str = Field(default="public, max-age=31536000, immutable",
                                         description="CacheControl of content-addressed objects")
    cache_control_mutable: str = Field(default="no-cache",
                                       description="CacheControl of runs/ objects (reports)")


class ScaleSettings(BaseModel):
    """How a large brief is spread over workers, and how GPUs are shared."""

    chunk_size: int = Field(
        default=0, ge=0,
        description="split a brief with more valid rows than this into chunk runs on the "
                    "GPU pool (0: never split)")
    chunk_deployment: str = Field(
        default="brand-content/chunk",
        description="deployment that runs one chunk (flow name/deployment name)")
    chunk_retries: int = Field(
        default=1, ge=0, le=5,
        description="times a crashed or failed chunk run is submitted again")
    chunk_timeout_s: int = Field(
        default=3600, ge=10, description="how long to wait for one chunk run")
    gpu_slot: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="take the per-host GPU concurrency slot: auto (backends that declare "
                    "needs_gpu), always, or never")
    gpu_slots_per_host: int = Field(
        default=1, ge=1, le=16, description="concurrent GPU sections allowed on one host")
    products_per_task: int = Field(
        default=0, ge=0, le=64,
        description="products per task run in the stages whose backend does not batch by "
                    "itself: 0 (the default) spreads each stage over about two task runs "
                    "per worker, at most 16 products each; 1 gives one task run per "
                    "product in the UI")


class TextSettings(BaseModel):
    """Who writes the copy onto each canvas (a brand kit or a brief row may choose too)."""

    mode: TextMode | None = Field(
        default=None,
        description="edit (Qwen-Image-Edit, verified, typesetting as the fallback) or "
                    "typeset (the brand's fonts); None: the profile's default: edit on the "
                    "neural profiles, typeset on classic")


class QualitySettings(BaseModel):
    """The quality gates every canvas must pass before it is delivered (adforge.gates),
    the repairs tried first, and how long a paused run waits for a person's review."""

    enforce: bool = Field(default=True, description="hold a canvas that fails a gate for "
                          "review; false: gates are measured and recorded, all is delivered")
    min_contrast: float = Field(default=4.5, ge=1.0, le=21.0,
                                description="worst WCAG contrast of the copy on its pixels")
    max_text_product_overlap: float = Field(
        default=0.0, ge=0.0, le=1.0, description="share of a text box over the product")
    max_delta_e: float = Field(default=3.0, gt=0.0, le=20.0,
                               description="product colour change: mean ΔE in the matte")
    min_product_ssim: float = Field(
        default=0.85, ge=0.0, le=1.0,
        description="SSIM of the delivered product region against the cutout")
    min_sharpness_ratio: float = Field(
        default=0.5, ge=0.0, le=10.0,
        description="variance of the Laplacian in the product region, as a share of the "
                    "source's at the same size")
    min_segment_confidence: float = Field(
        default=0.5, ge=0.0, le=1.0, description="the segmenter's confidence in the cutout")
    min_product_visible: float = Field(
        default=0.2, ge=0.0, le=1.0,
        description="share of the planned product box its matte (alpha >= 0.5) covers")
    max_bytes: dict[str, int] = Field(
        default_factory=dict, description="byte budget of the delivered file per platform "
                                          "(none set: no byte gate)")
    max_attempts: int = Field(default=3, ge=1, le=10,
                              description="renderings of a failing canvas, the first included")
    review_timeout_s: int = Field(default=24 * 3600, ge=1,
                                  description="how long a run with `review: manual` waits")


class NotificationSettings(BaseModel):
    """Where a campaign is announced: when it starts, completes or fails."""

    slack_webhook_url: SecretStr | None = Field(
        default=None, description="Slack incoming webhook URL; unset: no notifications")
    on_start: bool = Field(default=False, description="post when a campaign starts")
    on_completion: bool = Field(default=True, description="post when a campaign completes")
    on_failure: bool = Field(default=True, description="post when a campaign fails")


class DeliverySettings(BaseModel):
    """Where a finished run's results are posted (adforge.delivery): a signed JSON
    document, retried with backoff on 5xx, 429 and network faults."""

    webhook_url: SecretStr | None = Field(
        default=None, description="results webhook (http or https; a secret: its path or "
                                  "query may hold a token); unset: nothing is posted")
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the X-AdForge-Signature header; "
                                  "unset: the posts are not signed")
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="per-attempt timeout")
    retries: int = Field(default=3, ge=0, le=10,
                         description="attempts after the first one (5xx, 429, timeouts, "
                                     "connection errors; never a 4xx)")
    backoff_s: float = Field(default=1.0, ge=0, le=60,
                             description="wait before the first retry, doubled each time")

    @field_validator("webhook_url")
    @classmethod
    def _http_only(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("the results webhook must be an http:// or https:// URL")
        return url


class CostSettings(BaseModel):
    """Hourly prices that turn a run's measured CPU and GPU seconds into dollars
    (`ADFORGE_COST__GPU_USD_PER_HOUR`, `ADFORGE_COST__CPU_USD_PER_HOUR`). The defaults are
    public on-demand list prices (README, "Cost and resources"): AWS EC2 p5.48xlarge,
    8 x H100, $55.04 an hour in US East (N. Virginia) after AWS's price cut of June 2025,
    so $6.88 per GPU-hour; m7i.large, 2 vCPUs, $0.1008 an hour there, so $0.0504 per
    vCPU-hour."""

    gpu_usd_per_hour: float = Field(default=6.88, ge=0,
                                    description="price of one GPU-hour, US dollars")
    cpu_usd_per_hour: float = Field(default=0.0504, ge=0,
                                    description="price of one vCPU-hour, US dollars")


class Settings(BaseSettings):
    """Everything AdForge can be told. Every field has a description."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env",
                                      env_nested_delimiter="__", extra="ignore")

    profile: ProfileName = Field(default="classic",
                                 description="stage backends, memory budget and model "
                                             "settings by name (adforge.profiles)")
    backends: StageBackends | None = Field(default=None,
                                           description="per-stage overrides of the profile")
    home: Path = Field(default=Path(".adforge"), description="state folder: database, store")
    db_url: str | None = Field(default=None,
                               description="SQLAlchemy URL; default sqlite:///<home>/adforge.db "
                                           "(a secret: set it in the environment, never as a "
                                           "flow parameter)")
    db_secret_block: str | None = Field(
        default=None, description="name of a Prefect Secret block holding the tracking "
                                  "database's URL, read by a flow's first step when db_url "
                                  "is not set (deployments whose workers share a server)")
    store: str | None = Field(default=None, description="asset store: a folder or "
                              "s3://bucket/prefix; default <home>/assets")
    s3: S3Settings = Field(default_factory=S3Settings,
                           description="S3 endpoint, region, retries, multipart, presigning")
    out_dir: Path = Field(default=Path("outputs"), description="where finished ads are written")
    platforms: list[str] = Field(default_factory=lambda: list(PRESETS),
                                 description="platform presets (or WxH) rendered by default")
    workers: int = Field(default=2, ge=1, le=64,
                         description="products processed concurrently inside one flow run")
    images: ImageLimits = Field(default_factory=ImageLimits)
    inputs: InputSettings = Field(default_factory=InputSettings,
                                  description="which files briefs and brand kits may name")
    segment: SegmentSettings = Field(default_factory=SegmentSettings)
    composite: CompositeSettings = Field(default_factory=CompositeSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings,
                                     description="quality gates, repairs and review")
    text: TextSettings = Field(default_factory=TextSettings,
                               description="text mode: edit or typeset")
    min_font_px: int = Field(default=14, ge=6, le=200, description="smallest type size allowed")
    prefect_startup_timeout_s: int = Field(default=120, ge=10,
                                           description="time allowed for Prefect's local server")
    scale: ScaleSettings = Field(default_factory=ScaleSettings,
                                 description="chunked scale-out and GPU slots")
    notifications: NotificationSettings = Field(default_factory=NotificationSettings,
                                                description="Slack on completion/failure")
    delivery: DeliverySettings = Field(default_factory=DeliverySettings,
                                       description="the results webhook")
    models: ModelSettings = Field(default_factory=ModelSettings,
                                  description="neural backends: model ids/folders, devices")
    cost: CostSettings = Field(default_factory=CostSettings,
                               description="GPU- and CPU-hour prices for the cost reports")

    def stage_backends(self) -> StageBackends:
        if self.backends is not None:
            return self.backends
        return profile_named(self.profile).backends

    def run_models(self) -> ModelSettings:
        """The model settings as this profile runs them (its budget and memory placements,
        the tiny profile's checkpoints and small working sizes): what a run's backends
        are built from. The layout stage answers with the edit pipeline's text encoder
        (`qwen2vl.share_edit_text_encoder`) only where it runs on qwen2-vl. The tiny
        profile finds its checkpoints under `<home>/models/tiny` unless `tiny_root` says."""
        models = self.models.for_profile(self.profile, home=self.home)
        if models.qwen2vl.share_edit_text_encoder and self.stage_backends().layout != "qwen2-vl":
            unshared = models.qwen2vl.model_copy(update={"share_edit_text_encoder": False})
            models = models.model_copy(update={"qwen2vl": unshared})
        return models

    def text_mode(self) -> str:
        """The run's text mode: `ADFORGE_TEXT__MODE` when set, else the profile's.

        A `backends` override replaces the profile's stage backends as a whole, so there
        the default follows its text backend: only qwen-image-edit can edit."""
        if self.text.mode is not None:
            return self.text.mode
        if self.backends is not None:
            return "edit" if self.backends.text == "qwen-image-edit" else "typeset"
        return profile_named(self.profile).text_mode

    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.home / 'adforge.db'}"

    def store_spec(self) -> str:
        return self.store or str(self.home / "assets")


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and `.env`, with the given non-None values on top.

    A value that does not validate raises `SettingsError`, which names the environment
    variable (`ADFORGE_IMAGES__MAX_PIXELS`), not pydantic's dotted field path."""
    given: dict[str, Any] = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise settings_error(exc, set(given)) from exc


def settings_error(exc: ValidationError,
                   given: frozenset[str] | set[str] = frozenset()) -> SettingsError:
    """Every invalid setting of `exc`, one line each: where it is set, its value
    (a connection string redacted) and what pydantic says is wrong with it."""
    lines = []
    for problem in exc.errors():
        where = tuple(str(part) for part in problem["loc"])
        value = problem.get("input")
        shown = redact_url(value) if isinstance(value, str) else value
        option = (f" (or the --{where[0].replace('_', '-')} option)"
                  if where and where[0] in given else "")
        lines.append(f"  - {env_variable(where)}={shown!s}{option}: {problem['msg']}")
    return SettingsError("invalid setting(s); fix or unset them (in the environment or "
                         ".env):\n" + "\n".join(lines), field=env_variable(
                             tuple(str(p) for p in exc.errors()[0]["loc"])))


def env_variable(location: tuple[str, ...]) -> str:
    """The environment variable of a settings field: ('images', 'max_pixels') ->
    ADFORGE_IMAGES__MAX_PIXELS."""
    return ENV_PREFIX + "__".join(part.upper() for part in location)


def redact_url(url: str) -> str:
    """A connection string fit to store or show: its password replaced by `***`
    (text that does not parse as a URL is shown only up to its scheme)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        scheme, found, _ = url.partition("://")
        return f"{scheme}://***" if found else "***" if "@" in url else url
