"""A student's feedback: total, then per item its points and, for each failed check, what was
checked and the message with its hint; as Markdown, and as HTML with the training runs' loss curves."""

from __future__ import annotations

from grader.reports.jinja import OUTCOME_LABELS, environment, floats, points
from grader.reports.neutral import markdown_fence, visible
from grader.scoring import CheckResult, ScoreBook, total


def feedback_markdown(book: ScoreBook, *, title: str = "HW2 feedback") -> str:
    """The student's feedback as Markdown."""
    summary = total(book.results)
    lines = [
        f"# {title}",
        "",
        f"**Total: {points(summary.points)} / {points(summary.max_points)}**",
        "",
    ]
    if summary.not_graded:
        lines += [
            f"{summary.not_graded} check(s) could not be graded because of a problem in the grader. "
            "They count 0 for now; your instructor has been notified and will regrade them.",
            "",
        ]
    groups: dict[str, list[CheckResult]] = {}
    for result in book.results:
        groups.setdefault(result.item, []).append(result)
    for item, results in groups.items():
        item_total = total(results)
        lines += [
            f"## `{item}`: {points(item_total.points)} / {points(item_total.max_points)}",
            "",
        ]
        for r in results:
            mark = "✓" if r.outcome == "passed" else "✗"
            lines.append(
                f"- {mark} {r.description} ({points(r.points)}/{points(r.max_points)}, {OUTCOME_LABELS[r.outcome]})"
            )
            if r.outcome != "passed" and r.message:
                message = visible(r.message)
                fence = markdown_fence(message)
                lines += [
                    "",
                    f"  {fence}",
                    *[f"  {line}" for line in message.splitlines()],
                    f"  {fence}",
                    "",
                ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def feedback_html(book: ScoreBook, *, title: str = "HW2 feedback") -> str:
    """The student's feedback as a self-contained HTML page (loss curves embedded as PNG)."""
    import base64

    from grader.reports.charts import loss_curve

    groups: dict[str, list[CheckResult]] = {}
    for result in book.results:
        groups.setdefault(result.item, []).append(result)
    curves = {
        r.check_id: base64.b64encode(loss_curve(floats(r.data["losses"]), r.item)).decode()
        for r in book.results
        if r.data.get("losses")
    }
    items = [
        {"name": name, "results": results, "total": total(results)}
        for name, results in groups.items()
    ]
    template = environment().get_template("feedback.html")
    return str(
        template.render(
            title=title,
            total=total(book.results),
            items=items,
            curves=curves,
            labels=OUTCOME_LABELS,
        )
    )
