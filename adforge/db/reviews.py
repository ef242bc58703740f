"""The review queue in the tracking database: canvases a quality gate held back, the
decisions people make on them, and the statuses those decisions settle.

    hold(db, run_id=..., sku=..., platform=..., failing=[...], picture=..., asset_key=...)
    items(db, run_id=None, status="pending")          what waits for a person
    decide(db, run_id, sku, platform, "approved", by="ana", reason="...")
    settle_product(db, run_id, sku) / settle_run(db, run_id)

Like the rest of the repository, every writer is idempotent: holding the same canvas
again (a retried task) keeps one row and any decision already made on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select, update

from adforge.db.database import Database
from adforge.db.models import VARIANT_ONLY_STATUSES, Product, Rendition, Review, Run, utcnow
from adforge.db.repository import ProductStatus, RunStatus, review_dict
from adforge.errors import AdForgeError

Decision = Literal["approved", "rejected"]


def hold(db: Database, *, run_id: str, sku: str, platform: str,
         failing: list[dict[str, Any]], picture: str, asset_key: str) -> None:
    """Put a canvas in the review queue (pending); again: its gates and picture are
    refreshed, a decision already made stays."""
    with db.session() as session:
        found = session.scalars(select(Review).where(
            Review.run_id == run_id, Review.sku == sku, Review.platform == platform)).first()
        if found is None:
            session.add(Review(run_id=run_id, sku=sku, platform=platform, status="pending",
                               failing=failing, picture=picture, asset_key=asset_key,
                               created_at=utcnow()))
            return
        found.failing, found.picture, found.asset_key = failing, picture, asset_key


def items(db: Database, *, run_id: str | None = None, sku: str | None = None,
          platform: str | None = None, status: str | None = "pending") -> list[dict[str, Any]]:
    """Review items, oldest first: of one run (or all), one product, one platform, in
    one status (None: any)."""
    query = select(Review).order_by(Review.id)
    for column, value in ((Review.run_id, run_id), (Review.sku, sku),
                          (Review.platform, platform), (Review.status, status)):
        if value is not None:
            query = query.where(column == value)
    with db.session() as session:
        return [review_dict(review) for review in session.scalars(query)]


def decide(db: Database, run_id: str, sku: str, platform: str, decision: Decision, *,
           by: str, reason: str | None) -> bool:
    """Record a person's decision on a pending item; False when that same decision was
    already recorded (nothing to do). Refuses an unknown item, or one decided otherwise."""
    with db.session() as session:
        found = session.scalars(select(Review).where(
            Review.run_id == run_id, Review.sku == sku, Review.platform == platform)).first()
        if found is None:
            raise AdForgeError(f"{sku} {platform} of run {run_id} is not in the review queue;"
                               " `adforge review` lists what is")
        if found.status == decision:
            return False
        if found.status != "pending":
            raise AdForgeError(f"{sku} {platform} of run {run_id} was already {found.status} "
                               f"by {found.decided_by} at {found.decided_at:%Y-%m-%d %H:%M} UTC")
        found.status, found.decided_by, found.reason = decision, by, reason
        found.decided_at = utcnow()
    return True


def settle_product(db: Database, run_id: str, sku: str) -> ProductStatus:
    """A reviewed product's status from its canvases: `needs-review` while one waits,
    else `done` when any was delivered, else `rejected`. A product that failed a stage
    keeps its status."""
    with db.session() as session:
        product = session.scalars(select(Product).where(
            Product.run_id == run_id, Product.sku == sku)).one()
        if product.status not in ("needs-review", "done", "rejected"):
            return product.status  # type: ignore[return-value]
        waiting = _count(session, Review, run_id, sku, Review.status == "pending")
        delivered = _count(session, Rendition, run_id, sku)
        status = "needs-review" if waiting else ("done" if delivered else "rejected")
        product.status = status
        return status  # type: ignore[return-value]


def _count(session: Any, model: type[Any], run_id: str, sku: str, *where: Any) -> int:
    query = select(func.count()).select_from(model).where(
        model.run_id == run_id, model.sku == sku, *where)
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class Counts:
    """A run's products by outcome; `failed` counts every product not published and not
    waiting for review: failed in a stage, refused in the brief, or rejected."""

    published: int
    in_review: int
    failed: int

    @property
    def total(self) -> int:
        return self.published + self.in_review + self.failed

    @property
    def status(self) -> RunStatus:
        """completed: all published; failed: none published and none in review."""
        if self.published == self.total:
            return "completed"
        return "failed" if not self.published and not self.in_review else "partial"

    def words(self) -> str:
        return (f"{self.published} published, {self.in_review} in review, "
                f"{self.failed} failed")


def counts(db: Database, run_id: str, n_products: int | None = None) -> Counts:
    """The run's outcome counts; `n_products` (default: as recorded) includes the brief's
    refused rows, which have no product row."""
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise AdForgeError(f"run {run_id} is not in the tracking database")
        statuses = [status for status in session.scalars(
            select(Product.status).where(Product.run_id == run_id))
            if status not in VARIANT_ONLY_STATUSES]  # drafts: not products of the final
        total = run.n_products if n_products is None else n_products
    published = statuses.count("done")
    in_review = statuses.count("needs-review")
    return Counts(published, in_review, max(total, len(statuses)) - published - in_review)


def settle_run(db: Database, run_id: str) -> Counts:
    """After decisions: the run's status and failure count from its products."""
    found = counts(db, run_id)
    with db.session() as session:
        session.execute(update(Run).where(Run.id == run_id).values(
            status=found.status, n_failed=found.failed))
    return found
