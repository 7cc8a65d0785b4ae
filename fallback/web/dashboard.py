"""The dashboard: automated coverage, decisions, queue size and approve-to-served latency."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from fallback.api.auth import ReviewerDep
from fallback.api.deps import RuntimeDep
from fallback.store import review as review_repo
from fallback.web import charts, stats
from fallback.web.i18n import Translator, translator
from fallback.web.render import WebRoute, lang_of, page

router = APIRouter(route_class=WebRoute)

ACTIONS = ("answer", "pending_review", "handoff", "blocked")
# what reviewers decided: an approval also logs the answer's "create", which would count it twice
REVIEW_ACTIONS = ("approve", "approve_edited", "reject", "edit", "retire")


def duration(t: Translator, seconds: float | None) -> str:
    """``45 秒`` / ``3.5 分钟`` / ``2.1 小时`` / ``1.5 天``."""
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size:
            return t(f"dur_{unit}", n=f"{seconds / size:.1f}")
    return t("dur_s", n=f"{seconds:.0f}")


@router.get("/dashboard")
def dashboard_page(
    request: Request, rt: RuntimeDep, me: ReviewerDep, days: Annotated[int, Query(ge=2, le=90)] = 14,
) -> Response:
    t = translator(lang_of(request))
    labels, start = stats.window(days)

    def read(s: Session) -> dict[str, Any]:
        return {
            "coverage": stats.coverage(s, labels, start), "decisions": stats.decisions(s, start),
            "review": stats.review_actions(s, start), "queue": stats.queue_sizes(s, labels, start),
            "approvals": stats.recent_approvals(s), "counts": review_repo.counts(s),
        }

    d = rt.db.run(read)
    calls = sum(n for _, _, n in d["coverage"])
    answered = sum(share * n for _, share, n in d["coverage"] if share is not None)
    served = [a.served_after_s for a in d["approvals"] if a.served_after_s is not None]
    waited = [a.waited_s for a in d["approvals"] if a.waited_s is not None]
    decision_rows = [(t(f"action_{a}"), float(d["decisions"].get(a, 0))) for a in ACTIONS]
    review_rows = [(t(f"audit_{a}"), float(d["review"].get(a, 0))) for a in REVIEW_ACTIONS]
    return page(
        request, "dashboard.html", me=me, title=t("nav_dashboard"), nav="dashboard", days=days,
        counts=d["counts"], calls=calls, coverage_total=(answered / calls) if calls else None,
        approvals=d["approvals"], duration=lambda v: duration(t, v),
        median_served=stats.median(served), median_waited=stats.median(waited),
        coverage_chart=charts.line_chart([(day[5:], share) for day, share, _ in d["coverage"]], percent=True,
                                         label=t("chart_coverage")),
        decisions_chart=charts.bar_chart(decision_rows, label=t("chart_decisions"), classes=list(ACTIONS),
                                         fmt=lambda v: f"{v:.0f}"),
        queue_chart=charts.line_chart(d["queue"], label=t("chart_queue"), fmt=lambda v: f"{v:.0f}",
                                     integer=True),
        review_chart=charts.bar_chart(review_rows, label=t("chart_review"), classes=list(REVIEW_ACTIONS),
                                      fmt=lambda v: f"{v:.0f}"),
    )
