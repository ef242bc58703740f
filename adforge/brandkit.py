"""Brand kits: fonts, colours, logo, tone, style presets and prompts, loaded from YAML.

A brand kit file looks like:

    name: Hanbit Goods
    tone: warm, honest, a little playful
    fonts:
      headline: {family: "Noto Sans CJK KR", weight: bold}
      body: {path: fonts/Body.ttf}
    colors: {primary: "#1F3A5F", secondary: "#F2E8DA", accent: "#E4572E"}
    default_style: studio-light
    styles:
      ocean: {top: "#DCEBF5", bottom: "#9CC3DD", floor: "#C9DFEC", prompt: "..."}
    default_prompt: "a clean studio product shot, soft light"
    negative_prompt: "text, watermark, clutter"
    mood_image: mood/autumn.jpg      # FLUX restyles every backdrop from its look (img2img)
    mood_strength: 0.5               # near 0 keeps the mood image's look, 1 replaces it
    text_mode: typeset               # edit | typeset; left out: the run's mode

Relative paths are resolved against the brand kit file's folder; an S3 kit's font, logo
and mood image files are downloaded beside the run. A `mood_image` may also be an s3://
URI: it then stays one, read where it is used, as a brief's s3:// photos are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from adforge.brief_cells import S3_URI
from adforge.errors import BrandKitError
from adforge.settings import S3Settings
from adforge.sources import is_s3_uri, join_source, local_copy, read_source
from adforge.specs import check_hex_color
from adforge.text_mode import TEXT_MODES, TextMode


class FontRef(BaseModel):
    """A font: a file (TTF/OTF/TTC with a face index) or a fontconfig family name."""

    path: Path | None = Field(default=None, description="font file; TTC needs `index`")
    index: int = Field(default=0, ge=0, description="face index inside a TTC collection")
    family: str | None = Field(default=None,
                               description="fontconfig family, e.g. 'Noto Sans CJK KR'")
    weight: Literal["regular", "bold"] = Field(default="regular", description="weight to look up")


class BrandFonts(BaseModel):
    headline: FontRef = Field(default_factory=lambda: FontRef(weight="bold"))
    body: FontRef = Field(default_factory=FontRef)
    cta: FontRef = Field(default_factory=lambda: FontRef(weight="bold"))


class BrandColors(BaseModel):
    primary: str = Field(default="#1F2937", description="main brand colour")
    secondary: str = Field(default="#F3F4F6", description="second brand colour")
    accent: str = Field(default="#E4572E", description="call-to-action button colour")
    text_dark: str = Field(default="#111111", description="text colour on light grounds")
    text_light: str = Field(default="#FFFFFF", description="text colour on dark grounds")

    @field_validator("primary", "secondary", "accent", "text_dark", "text_light")
    @classmethod
    def _hex(cls, value: str) -> str:
        return check_hex_color(value)


class StylePreset(BaseModel):
    """A procedural studio look (and the prompt a neural background uses for it)."""

    top: str = Field(description="backdrop colour at the top of the sweep")
    bottom: str = Field(description="backdrop colour where the sweep meets the floor")
    floor: str = Field(description="floor colour in front of the horizon")
    horizon: float = Field(default=0.64, ge=0.3, le=0.95,
                           description="height of the soft horizon, fraction from the top")
    vignette: float = Field(default=0.22, ge=0.0, le=0.8, description="edge darkening strength")
    light: float = Field(default=0.35, ge=0.0, le=1.0,
                         description="horizontal position of the key light, 0 left .. 1 right")
    prompt: str = Field(default="", description="background prompt for neural backends")

    @field_validator("top", "bottom", "floor")
    @classmethod
    def _hex(cls, value: str) -> str:
        return check_hex_color(value)


BUILTIN_STYLES: dict[str, StylePreset] = {
    "studio-light": StylePreset(top="#F4F1EC", bottom="#E2DDD5", floor="#D9D3CA",
                                prompt="bright seamless studio backdrop, soft daylight"),
    "studio-dark": StylePreset(top="#2B2D33", bottom="#17181C", floor="#202127", vignette=0.35,
                               prompt="dark moody studio backdrop, rim light"),
    "pastel": StylePreset(top="#F7E1E6", bottom="#E8C7D0", floor="#EFD3DA",
                          prompt="soft pastel pink studio backdrop"),
    "ocean": StylePreset(top="#DDEEF7", bottom="#A9CDE3", floor="#C3DEEC", light=0.65,
                         prompt="cool airy blue backdrop, morning light"),
    "warm": StylePreset(top="#F8E7CF", bottom="#E6C49A", floor="#EED5B3",
                        prompt="warm golden-hour studio backdrop"),
    "forest": StylePreset(top="#DCE8DA", bottom="#9DB99A", floor="#BBD0B8", light=0.7,
                          prompt="calm sage green backdrop, natural light"),
}


class BrandKit(BaseModel):
    name: str = Field(min_length=1, description="brand name, shown in reports")
    tone: str = Field(default="", description="voice and tone, given to neural layout/text")
    fonts: BrandFonts = Field(default_factory=BrandFonts)
    colors: BrandColors = Field(default_factory=BrandColors)
    logo: Path | None = Field(default=None, description="logo image (PNG with alpha)")
    default_style: str = Field(default="studio-light", description="style used when a row has none")
    styles: dict[str, StylePreset] = Field(default_factory=dict,
                                           description="brand presets, added to the built-ins")
    default_prompt: str = Field(default="clean studio product photography, soft light",
                                description="background prompt used when a row has none")
    negative_prompt: str = Field(default="text, watermark, logo, clutter, people",
                                 description="what neural backgrounds must avoid")
    mood_image: Path | str | None = Field(
        default=None, description="image whose look FLUX restyles every backdrop from "
                                  "(img2img): a path (relative to the kit's file) or an "
                                  "s3:// URI; a brief row's `reference` replaces it")
    mood_strength: float = Field(default=0.5, description="how far backdrops may move from "
                                 "the mood image: near 0 keeps its look, 1 replaces it")
    text_mode: TextMode | None = Field(default=None, description="edit | typeset: who writes "
                                       "the copy; None: the run's mode (the profile's)")

    @field_validator("mood_image", mode="plain")
    @classmethod
    def _mood_uri_or_path(cls, value: Any) -> Path | str | None:
        """An s3:// URI stays text (a Path would fold 's3://' to 's3:/'); else a Path."""
        if value is None or isinstance(value, Path):
            return value
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{value!r} is not an image path; give a path relative to the "
                             "brand kit file or an s3://bucket/key URI, or remove mood_image")
        if "://" not in value:
            return Path(value)
        if not S3_URI.match(value):
            raise ValueError(f"'{value}' is not a usable URI; write s3://bucket/key (bucket "
                             "in lower case) or a path relative to the brand kit file")
        return value

    @field_validator("mood_strength")
    @classmethod
    def _strength_in_range(cls, value: float) -> float:
        if not 0.0 < value <= 1.0:
            raise ValueError(f"{value} is out of range; write a number above 0 and at most 1 "
                             "(e.g. 0.3 stays close to the mood image, 0.9 moves far from it)")
        return value

    @field_validator("text_mode", mode="before")
    @classmethod
    def _known_text_mode(cls, value: Any) -> Any:
        mode = value.lower() if isinstance(value, str) else value
        if mode is not None and mode not in TEXT_MODES:
            raise ValueError(f"{value!r} is unknown; use edit (Qwen-Image-Edit writes the "
                             "copy) or typeset (the brand's fonts), or remove text_mode for "
                             "the run's mode")
        return mode

    def style(self, name: str | None) -> StylePreset:
        """The named preset (brand first, then built-in), or the brand's default."""
        key = name or self.default_style
        found = self.styles.get(key) or BUILTIN_STYLES.get(key)
        if found is None:
            known = ", ".join(sorted({*self.styles, *BUILTIN_STYLES}))
            raise BrandKitError(f"style {key!r} is unknown; use one of: {known}",
                                item=self.name, field="style")
        return found

    def style_names(self) -> set[str]:
        return {*self.styles, *BUILTIN_STYLES}


def default_brand_kit() -> BrandKit:
    """The embedded brand kit used when none is given."""
    return BrandKit(name="AdForge Studio", tone="clear, confident, friendly")


def load_brand_kit(path: str | Path, *, cache_dir: Path | None = None,
                   s3: S3Settings | None = None) -> BrandKit:
    """Load and validate a brand kit YAML; relative paths resolve beside the file.

    An s3:// kit is read from S3 with `s3` (None: `S3Settings()`); its relative font and
    logo files are downloaded into `cache_dir` (fonts need a local file; a run passes
    `<home>/cache/inputs`), which an s3:// kit must therefore come with."""
    if is_s3_uri(path):
        if cache_dir is None:
            raise ValueError(f"brand kit {path}: an s3:// kit needs cache_dir, the local "
                             "folder its font and logo files are downloaded into")
        return _load_s3_brand_kit(str(path), cache_dir, s3)
    path = Path(path)
    if not path.is_file():
        raise BrandKitError(f"brand kit {path} does not exist; pass the path of a YAML file",
                            item=str(path), field="path")
    return _resolve_paths(_parse_kit(path.read_text(encoding="utf-8"), str(path)), path)


def _load_s3_brand_kit(uri: str, cache: Path, s3: S3Settings | None) -> BrandKit:
    try:
        text = read_source(uri, s3).decode("utf-8")
    except FileNotFoundError as exc:
        raise BrandKitError(f"brand kit {uri} does not exist; check the S3 URI",
                            item=uri, field="path") from exc
    kit = _parse_kit(text, uri)
    for ref in (kit.fonts.headline, kit.fonts.body, kit.fonts.cta):
        if ref.path is not None and not ref.path.is_absolute():
            ref.path = local_copy(str(join_source(uri, ref.path.as_posix())), cache, s3)
    if kit.logo is not None and not kit.logo.is_absolute():
        kit.logo = local_copy(str(join_source(uri, kit.logo.as_posix())), cache, s3)
    if isinstance(kit.mood_image, Path) and not kit.mood_image.is_absolute():
        kit.mood_image = _download_mood_image(uri, kit.mood_image, cache, s3)
    return kit


def _download_mood_image(uri: str, relative: Path, cache: Path, s3: S3Settings | None) -> Path:
    """The S3 kit's relative mood image, fetched into the cache as its fonts and logo are."""
    source = str(join_source(uri, relative.as_posix()))
    try:
        return local_copy(source, cache, s3)
    except FileNotFoundError as exc:
        raise BrandKitError(f"brand kit {uri}, field 'mood_image': {source} does not exist; "
                            "fix the path (relative to the kit's file) or remove mood_image",
                            item=uri, field="mood_image") from exc


def _parse_kit(text: str, path: str) -> BrandKit:
    """Validate the YAML text of a kit; errors name the kit and the field."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise BrandKitError(f"brand kit {path} is not valid YAML: {exc}", item=str(path)) from exc
    if not isinstance(data, dict):
        raise BrandKitError(f"brand kit {path} must be a mapping of fields", item=str(path))
    try:
        kit = BrandKit.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise BrandKitError(f"brand kit {path}, field '{field}': {first['msg']}",
                            item=str(path), field=field) from exc
    return kit


def _resolve_paths(kit: BrandKit, kit_file: Path) -> BrandKit:
    base = kit_file.parent
    for ref in (kit.fonts.headline, kit.fonts.body, kit.fonts.cta):
        if ref.path is not None and not ref.path.is_absolute():
            ref.path = base / ref.path
    if kit.logo is not None and not kit.logo.is_absolute():
        kit.logo = base / kit.logo
    if isinstance(kit.mood_image, Path):
        kit.mood_image = _local_mood_image(kit.mood_image, kit_file)
    return kit


def _local_mood_image(path: Path, kit_file: Path) -> Path:
    """The mood image beside the kit's file, checked now: a run should not find it
    missing only when its first backdrop is made."""
    resolved = path if path.is_absolute() else kit_file.parent / path
    if not resolved.is_file():
        where = "is a folder, not a file" if resolved.is_dir() else "was not found"
        raise BrandKitError(f"brand kit {kit_file}, field 'mood_image': {resolved} {where}; "
                            f"fix the path (relative paths are resolved against "
                            f"{kit_file.parent}) or remove mood_image",
                            item=str(kit_file), field="mood_image")
    return resolved
