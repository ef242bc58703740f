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
    delivery:                        # the delivered files (presets: JPEG, quality 88)
      "*": {format: webp, quality: 85}
      blog_thumbnail: {max_bytes: 120000}
      instagram_story: {format: png}

Relative paths are resolved against the brand kit file's folder; an S3 kit's font, logo
and mood image files are downloaded beside the run. A `mood_image` may also be an s3://
URI: it then stays one, read where it is used, as a brief's s3:// photos are.

The kit's folder is its root: a local font, logo or mood image must resolve inside it
(symlinks followed) and be a regular file, checked when the kit is loaded, before any
of them is read (`allow_outside` lifts the first rule, for trusted local kits). Keys are
checked too: a misspelled one (`colours`, `fontz`) is refused with the key it resembles.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adforge.brief_cells import S3_URI
from adforge.errors import BrandKitError
from adforge.formats import ALL_PLATFORMS, FormatOverride
from adforge.settings import S3Settings
from adforge.sources import (
    OUTSIDE_SETTING,
    is_s3_uri,
    join_source,
    local_copy,
    local_file_problem,
    outside_root_problem,
    read_source,
    resolve_local,
)
from adforge.specs import check_hex_color, rendition_spec
from adforge.text_mode import TEXT_MODES, TextMode


class KitPart(BaseModel):
    """A part of a brand kit: unknown keys are refused, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class FontRef(KitPart):
    """A font: a file (TTF/OTF/TTC with a face index) or a fontconfig family name."""

    path: Path | None = Field(default=None, description="font file; TTC needs `index`")
    index: int = Field(default=0, ge=0, description="face index inside a TTC collection")
    family: str | None = Field(default=None,
                               description="fontconfig family, e.g. 'Noto Sans CJK KR'")
    weight: Literal["regular", "bold"] = Field(default="regular", description="weight to look up")


class BrandFonts(KitPart):
    headline: FontRef = Field(default_factory=lambda: FontRef(weight="bold"))
    body: FontRef = Field(default_factory=FontRef)
    cta: FontRef = Field(default_factory=lambda: FontRef(weight="bold"))


class BrandColors(KitPart):
    primary: str = Field(default="#1F2937", description="main brand colour")
    secondary: str = Field(default="#F3F4F6", description="second brand colour")
    accent: str = Field(default="#E4572E", description="call-to-action button colour")
    text_dark: str = Field(default="#111111", description="text colour on light grounds")
    text_light: str = Field(default="#FFFFFF", description="text colour on dark grounds")

    @field_validator("primary", "secondary", "accent", "text_dark", "text_light")
    @classmethod
    def _hex(cls, value: str) -> str:
        return check_hex_color(value)


class StylePreset(KitPart):
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


class BrandKit(KitPart):
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
    delivery: dict[str, FormatOverride] = Field(
        default_factory=dict, description="delivered file format per platform (`*`: every "
                                          "platform): format, quality, min_quality, max_bytes")

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

    @field_validator("delivery")
    @classmethod
    def _known_platforms(cls, value: dict[str, FormatOverride]) -> dict[str, FormatOverride]:
        for platform in value:
            if platform != ALL_PLATFORMS:
                try:
                    rendition_spec(platform)
                except ValueError as exc:
                    raise ValueError(f"delivery: {exc} (or \"*\" for every platform)") from exc
        return value

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
                   s3: S3Settings | None = None, allow_outside: bool = False) -> BrandKit:
    """Load and validate a brand kit YAML; relative paths resolve beside the file.

    An s3:// kit is read from S3 with `s3` (None: `S3Settings()`); its relative font and
    logo files are downloaded into `cache_dir` (fonts need a local file; a run passes
    `<home>/cache/inputs`), which an s3:// kit must therefore come with. A local kit's
    files must lie inside its folder unless `allow_outside`."""
    if is_s3_uri(path):
        if cache_dir is None:
            raise ValueError(f"brand kit {path}: an s3:// kit needs cache_dir, the local "
                             "folder its font and logo files are downloaded into")
        return _load_s3_brand_kit(str(path), cache_dir, s3, allow_outside)
    path = Path(path)
    problem = local_file_problem(path)
    if problem is not None:
        where = "does not exist" if problem == "was not found" else problem
        raise BrandKitError(f"brand kit {path} {where}; pass the path of a YAML file",
                            item=str(path), field="path")
    return _resolve_paths(_parse_kit(path.read_text(encoding="utf-8"), str(path)), path,
                          allow_outside)


def _load_s3_brand_kit(uri: str, cache: Path, s3: S3Settings | None,
                       allow_outside: bool) -> BrandKit:
    try:
        text = read_source(uri, s3).decode("utf-8")
    except FileNotFoundError as exc:
        raise BrandKitError(f"brand kit {uri} does not exist; check the S3 URI",
                            item=uri, field="path") from exc
    kit = _parse_kit(text, uri)
    for name, ref in _font_refs(kit):
        if ref.path is not None:
            _refuse_local_path_in_s3_kit(uri, f"fonts.{name}.path", ref.path, allow_outside)
            if not ref.path.is_absolute():
                ref.path = local_copy(str(join_source(uri, ref.path.as_posix())), cache, s3)
    if kit.logo is not None:
        _refuse_local_path_in_s3_kit(uri, "logo", kit.logo, allow_outside)
        if not kit.logo.is_absolute():
            kit.logo = local_copy(str(join_source(uri, kit.logo.as_posix())), cache, s3)
    if isinstance(kit.mood_image, Path):
        _refuse_local_path_in_s3_kit(uri, "mood_image", kit.mood_image, allow_outside)
        if not kit.mood_image.is_absolute():
            kit.mood_image = _download_mood_image(uri, kit.mood_image, cache, s3)
    return kit


def _refuse_local_path_in_s3_kit(uri: str, field: str, path: Path, allow_outside: bool) -> None:
    """An S3 kit names objects beside it; a local absolute path would read this machine."""
    if (path.is_absolute() or str(path).startswith("~")) and not allow_outside:
        raise BrandKitError(f"brand kit {uri}, field '{field}': {path} is a local path in a "
                            "kit read from S3; give a path relative to the kit (or set "
                            f"{OUTSIDE_SETTING}=true, for trusted kits only)",
                            item=uri, field=field)


def _font_refs(kit: BrandKit) -> list[tuple[str, FontRef]]:
    return [("headline", kit.fonts.headline), ("body", kit.fonts.body), ("cta", kit.fonts.cta)]


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
    """Validate the YAML text of a kit; errors name the kit and every bad field."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise BrandKitError(f"brand kit {path} is not valid YAML: {exc}", item=str(path)) from exc
    if not isinstance(data, dict):
        raise BrandKitError(f"brand kit {path} must be a mapping of fields", item=str(path))
    try:
        kit = BrandKit.model_validate(data)
    except ValidationError as exc:
        problems = [_field_problem(problem) for problem in exc.errors()]
        first_field = problems[0][0]
        lines = [f"field '{field}': {message}" for field, message in problems]
        told = lines[0] if len(lines) == 1 else (f"{len(lines)} problems:\n  - "
                                                 + "\n  - ".join(lines))
        raise BrandKitError(f"brand kit {path}, {told}", item=str(path),
                            field=first_field) from exc
    return kit


def _field_problem(problem: Any) -> tuple[str, str]:
    """(dotted field, message) of one validation problem; an unknown key is told the
    known key it resembles, if any."""
    location = [str(part) for part in problem["loc"]]
    field = ".".join(location)
    if problem["type"] != "extra_forbidden":
        return field, problem["msg"]
    known = _known_keys(location[:-1])
    close = difflib.get_close_matches(location[-1], known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
    return field, f"unknown key; {hint}"


def _known_keys(parents: list[str]) -> list[str]:
    """The keys allowed where an unknown one was found (`parents` leads there: a font's
    and a style's own name are any name)."""
    parts: dict[tuple[str, ...], type[BaseModel]] = {
        (): BrandKit, ("fonts",): BrandFonts, ("fonts", "*"): FontRef,
        ("colors",): BrandColors, ("styles", "*"): StylePreset}
    where = tuple(parents[:1]) + (("*",) if len(parents) > 1 else ())
    return list(parts.get(where, BrandKit).model_fields)


def _resolve_paths(kit: BrandKit, kit_file: Path, allow_outside: bool) -> BrandKit:
    """Every local file of the kit resolved beside it, kept inside its folder, checked to
    be a regular file: all before any of them is read."""
    for name, ref in _font_refs(kit):
        if ref.path is not None:
            ref.path = _kit_file(kit_file, f"fonts.{name}.path", ref.path, allow_outside)
    if kit.logo is not None:
        kit.logo = _kit_file(kit_file, "logo", kit.logo, allow_outside)
    if isinstance(kit.mood_image, Path):
        kit.mood_image = _kit_file(kit_file, "mood_image", kit.mood_image, allow_outside)
    return kit


def _kit_file(kit_file: Path, field: str, path: Path, allow_outside: bool) -> Path:
    """A file the kit names, resolved against the kit's folder and checked without being
    opened; a missing, special or outside one is refused, naming the field and the fix."""
    folder = kit_file.parent
    resolved = resolve_local(path, folder)
    problem = None if allow_outside else outside_root_problem(
        resolved, folder, what="the brand kit's folder")
    if problem is None:
        problem = local_file_problem(resolved)
        if problem is not None:
            problem = (f"{resolved} {problem}; fix the path (relative paths are resolved "
                       f"against {folder}) or remove {field.split('.')[0]}")
    else:
        problem = f"'{path}' {problem}"
    if problem is not None:
        raise BrandKitError(f"brand kit {kit_file}, field '{field}': {problem}",
                            item=str(kit_file), field=field.split(".")[0])
    return resolved
