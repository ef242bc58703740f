"""The hostile-input suite's harness: small campaigns, the `adforge` command, the checks
every kind repeats (nothing half-written left, no secret stored).

Every test drives the real command (`adforge run|report|cutout`) through Typer's
CliRunner against the session's Prefect harness, on 256-pixel sample photos and one
small platform, so that a run costs seconds. Kinds that are rows of a brief share one
run per module (tests/hostile/test_rows.py); kinds that refuse a whole run each make
their own, which stops in its first step.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
import yaml
from PIL import Image
from typer.testing import CliRunner, Result

from adforge.brief import write_brief
from adforge.demo import DEMO_BRAND
from adforge.samples import render_sample
from adforge_app.cli import app

SIZE = 256  # sample photos: small, still above the loader's 64-pixel minimum
PLATFORM = "blog_thumbnail"  # 600x400: the cheapest preset
KINDS = ("bottle", "box", "jar", "mug", "tube", "can", "perfume", "shoe")
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_PARTIAL = 0, 1, 2, 3
# A secret every command has in its environment (as a worker has its credentials): it
# must end up in no file a run writes.
CANARY = "adforge-hostile-canary-" + uuid.uuid4().hex


@pytest.fixture(scope="session", autouse=True)
def prefect_logging_outside_the_runner() -> None:
    """Prefect configures its logging on first use. Were that inside a CliRunner call,
    its console handler would keep the runner's stream, closed once the command ends,
    and every later log line would fail; so it is configured here, first."""
    import prefect.main  # noqa: F401


@pytest.fixture(scope="session")
def sample_photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One 256-pixel sample photo per kind, rendered once for the whole suite."""
    folder = tmp_path_factory.mktemp("hostile-photos")
    photos = {}
    for index, kind in enumerate(KINDS):
        rgb, _ = render_sample(kind, size=SIZE, seed=index, backdrop="plain")
        photos[kind] = folder / f"{kind}.png"
        Image.fromarray(rgb).save(photos[kind])
    return photos


def good_row(sku: str, image: str, **cells: str) -> dict[str, str]:
    """A brief row that is valid as long as `image` is."""
    return {"sku": sku, "image": image, "headline": f"Meet {sku}", "subline": "Made well",
            "cta": "Shop now", "language": "en", **cells}


@dataclass
class Campaign:
    """A campaign's folders (inputs, state, outputs) and the command run on them."""

    root: Path
    photos: dict[str, Path]
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.inputs.mkdir(parents=True, exist_ok=True)
        self.env = {"ADFORGE_HOME": str(self.home), "ADFORGE_OUT_DIR": str(self.out),
                    "AWS_SECRET_ACCESS_KEY": CANARY, **self.env}

    @property
    def inputs(self) -> Path:
        return self.root / "in"

    @property
    def home(self) -> Path:
        return self.root / "state"

    @property
    def out(self) -> Path:
        return self.root / "outputs"

    # --- inputs -------------------------------------------------------------------

    def photo(self, name: str, kind: str = "bottle") -> str:
        """A sample photo copied under the inputs' `photos/`; its path in a brief."""
        target = self.inputs / "photos" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.photos[kind], target)
        return f"photos/{name}"

    def image(self, name: str, pixels: np.ndarray, **save: Any) -> str:
        """An array saved under the inputs' `photos/` (format from the name)."""
        target = self.inputs / "photos" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(target, **save)
        return f"photos/{name}"

    def file(self, name: str, content: bytes | str) -> Path:
        target = self.inputs / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
        return target

    def brief(self, rows: list[dict[str, str]], name: str = "brief.csv") -> Path:
        return write_brief(rows, self.inputs / name)

    def kit(self, **changes: Any) -> Path:
        """The demo brand kit with `changes` (None removes a key), as brand.yaml."""
        data = {**DEMO_BRAND, **changes}
        data = {key: value for key, value in data.items() if value is not None}
        path = self.inputs / "brand.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path

    # --- the command --------------------------------------------------------------

    def adforge(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """`adforge ARGS` in this process (CliRunner), with this campaign's state."""
        return CliRunner().invoke(app, list(args), env=self.env | (env or {}))

    def run(self, brief: Path, *args: str, kit: Path | None = None,
            env: dict[str, str] | None = None) -> Result:
        """`adforge run BRIEF --brand KIT --platforms blog_thumbnail ARGS`."""
        brand = ["--brand", str(kit or self.kit())]
        platforms = [] if "--platforms" in args else ["--platforms", PLATFORM]
        return self.adforge("run", str(brief), *brand, *platforms, *args, env=env)

    # --- what a run left ----------------------------------------------------------

    def rows(self, query: str) -> list[tuple]:
        database = self.home / "adforge.db"
        if not database.is_file():
            return []
        engine = sa.create_engine(f"sqlite:///{database}")
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(sa.text(query))]
        except sa.exc.OperationalError:  # no tables yet: the run never opened
            return []
        finally:
            engine.dispose()

    def published(self) -> set[tuple[str, str]]:
        """(sku, platform) of every rendition the tracking database records."""
        return set(self.rows("select sku, platform from renditions"))

    def runs(self) -> list[tuple[str, str]]:
        return self.rows("select id, status from runs order by started_at")

    def report(self) -> str:
        [report] = list(self.out.glob("*/report.html"))
        return report.read_text(encoding="utf-8")

    def leftovers(self) -> list[Path]:
        """Half-written files: temporary files of the atomic writers, anywhere."""
        return [path for folder in (self.home, self.out, self.inputs) if folder.is_dir()
                for path in folder.rglob("*.tmp")]

    def files_containing(self, secret: str) -> list[Path]:
        """Every file under the campaign's folders whose bytes hold `secret` (the sparse
        4 GB inputs aside: nothing writes files that large)."""
        needle = secret.encode()
        return [path for path in self.root.rglob("*") if path.is_file()
                and not path.is_symlink() and path.stat().st_size < 50_000_000
                and needle in path.read_bytes()]


@pytest.fixture()
def campaign(tmp_path: Path, sample_photos: dict[str, Path]) -> Iterator[Campaign]:
    """A fresh campaign; at the end, nothing half-written and no secret may be left
    anywhere in it."""
    made = Campaign(tmp_path / "campaign", sample_photos)
    yield made
    assert made.leftovers() == [], "half-written files left behind"
    assert made.files_containing(CANARY) == [], "a secret was written"


def refused(result: Result, *words: str) -> str:
    """The error a command that refused its input printed: exit 2, no traceback, one
    block of a few lines from `error:` on, holding `words`."""
    output = result.output
    assert result.exit_code == EXIT_BAD_INPUT, (result.exit_code, output, result.exception)
    assert "Traceback" not in output, output
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("error: ")), None)
    assert start is not None, output
    block = "\n".join(lines[start:])
    assert len(lines) - start <= 8, block
    for word in words:
        assert word in block, (word, block)
    return block


def nothing_published(made: Campaign) -> None:
    """A run refused before the work: no ad, no run folder, no half-written file."""
    assert made.published() == set()
    assert not any(made.out.glob("*/*.*g")) if made.out.is_dir() else True
