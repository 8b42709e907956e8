"""Manual points: a CSV that course staff keep beside the reports (`DIR/adjustments.csv`).

```csv
student,item,points,comment,by
12345,pool2d,1.5,"mode handled in a helper the checks could not see",TA Kim
23456,total,-5,"academic integrity: shared code with 34567",Prof. Lee
```

`student` is an id or a name as the gradebook shows it; `item` is a homework item (a gradebook
column) or `total`; `points` are added (negative: taken off); `comment` is shown to the student;
`by` is for staff. Rows are applied every time the class's files are rebuilt, so they survive any
regrade. A row that names an unknown student or item, or whose points are not a number, is applied
nowhere and reported in problems.txt with its line number, never silently ignored.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.scoring import Adjustment

FILE_NAME = "adjustments.csv"
FILES = "adjustments*.csv"
"""Every file of manual points in the report folder: staff's own, and those `written.html` saves."""
COLUMNS = ("student", "item", "points", "comment", "by")
TOTAL = "total"


@dataclass
class Adjustments:
    by_student: dict[str, list[Adjustment]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_adjustments(
    path: Path, students: Mapping[str, str], items: Collection[str]
) -> Adjustments:
    """The rows of `path` by student id (`students` maps every id and name to its id); a missing
    file is no adjustments."""
    found = Adjustments()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return found
    except (OSError, UnicodeDecodeError) as error:
        found.problems.append(f"{path.name}: cannot be read ({error}); no adjustment applied")
        return found
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("student", "item", "points") if c not in (reader.fieldnames or [])]
    if missing:
        found.problems.append(
            f"{path.name}: no column {', '.join(missing)} (the columns are "
            f"{','.join(COLUMNS)}); no adjustment applied"
        )
        return found
    for row in reader:
        where = f"{path.name} line {reader.line_num}"
        student = (row.get("student") or "").strip()
        item = (row.get("item") or "").strip()
        raw = (row.get("points") or "").strip()
        if not any((student, item, raw)):
            continue
        if student not in students:
            found.problems.append(f"{where}: unknown student {student!r}; not applied")
            continue
        if item != TOTAL and item not in items:
            found.problems.append(
                f"{where}: unknown item {item!r} (an item of the gradebook, or {TOTAL}); not applied"
            )
            continue
        try:
            points = float(raw)
        except ValueError:
            points = math.nan
        if not math.isfinite(points):
            found.problems.append(f"{where}: points {raw!r} is not a number; not applied")
            continue
        found.by_student.setdefault(students[student], []).append(
            Adjustment(
                item=item,
                points=points,
                comment=(row.get("comment") or "").strip(),
                by=(row.get("by") or "").strip(),
            )
        )
    return found
