"""Turn a pytest-benchmark JSON file into benchmarks/results.json and the performance table of
benchmarks/README.md.

    .venv/bin/python -m pytest benchmarks -p no:randomly --benchmark-json=benchmarks/raw.json
    .venv/bin/python benchmarks/summarize.py benchmarks/raw.json [more.json ...]

The table in benchmarks/README.md between the `<!-- performance:start -->` and
`<!-- performance:end -->` lines is rewritten; everything else in that file is left as it is.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- performance:start -->", "<!-- performance:end -->"
TABLE_FILE = ROOT / "benchmarks" / "README.md"
"""Where the performance table lives, between the START and END lines."""


def summarize(raw: dict) -> list[dict]:
    rows = []
    for bench in raw["benchmarks"]:
        stats = bench["stats"]
        rows.append(
            {
                "name": bench["fullname"].split("::", 1)[-1],
                "median_s": stats["median"],
                "min_s": stats["min"],
                "max_s": stats["max"],
                "rounds": stats["rounds"],
                **bench.get("extra_info", {}),
            }
        )
    return rows


def seconds(value: float) -> str:
    """Three significant figures in milliseconds below a second (a harness recorded to the
    millisecond reads 182 ms, not 182.00 ms), else seconds to two decimals."""
    return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.2f} s"


def table(rows: list[dict], machine: str) -> str:
    lines = [
        f"Measured on {machine}.",
        "",
        "| benchmark | median | min | max | rounds |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        extra = ""
        if "student_seconds" in row:
            extra = f" (student code {row['student_seconds']:.2f} s"
            if "harness_seconds" in row:
                extra += f", harness {seconds(row['harness_seconds'])}"
            if "harness_seconds_min" in row:
                low, high = row["harness_seconds_min"], row["harness_seconds_max"]
                extra += f" [{seconds(low)} to {seconds(high)}]"
            if "harness_cpu_seconds" in row:
                extra += f"; harness CPU {seconds(row['harness_cpu_seconds'])}"
                if "parent_cpu_seconds" in row:
                    extra += f", of which the grading process {seconds(row['parent_cpu_seconds'])}"
            extra += ")"
        if "notebooks_per_minute" in row:
            extra = f" ({row['notebooks']} notebooks: {row['notebooks_per_minute']}/min, "
            if "steady_seconds_per_notebook" in row:
                extra += (
                    f"first result after {row['first_result_seconds']:.1f} s, then "
                    f"{row['steady_seconds_per_notebook']:.2f} s per notebook, "
                )
            extra += f"peak RSS {row['peak_rss_mb']} MB)"
        lines.append(
            f"| `{row['name']}`{extra} | {seconds(row['median_s'])} | {seconds(row['min_s'])} | "
            f"{seconds(row['max_s'])} | {row['rounds']} |"
        )
    batches = {row["name"]: row for row in rows if "notebooks_per_minute" in row}
    one, two, core = (
        batches.get(f"test_batch_of_notebooks[{how}]") for how in ("1", "2", "1-one-core")
    )
    if one and two:
        ratio = (
            f"Two workers grade the batch {one['median_s'] / two['median_s']:.2f}x as fast as one"
        )
        if core:
            ratio += (
                f", {core['median_s'] / two['median_s']:.2f}x as fast as one confined to one core"
            )
            if "steady_seconds_per_notebook" in core and "steady_seconds_per_notebook" in two:
                steady = core["steady_seconds_per_notebook"] / two["steady_seconds_per_notebook"]
                ratio += f" ({steady:.2f}x after the first result)"
        lines += ["", ratio + "."]
    return "\n".join(lines)


def with_table(text: str, new_table: str) -> str:
    """`text` with what lies between its START and END lines replaced by `new_table`; `text` as it
    is when it lacks either line."""
    if START not in text or END not in text:
        return text
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{new_table}\n{END}{after}"


def main(paths: list[str]) -> None:
    raws = [json.loads(Path(path).read_text()) for path in paths]
    raw = raws[0]
    rows = [row for r in raws for row in summarize(r)]
    info = raw.get("machine_info", {})
    cpu = info.get("cpu", {})
    # The processor too: Python and memory-bound kernels run twice as fast on some 2-CPU
    # machines as on others, so figures from different processors do not compare.
    brand = f" ({cpu['brand_raw']})" if cpu.get("brand_raw") else ""
    machine = f"{cpu.get('count', '?')} CPUs{brand}, Python {info.get('python_version', '?')}"
    (ROOT / "benchmarks" / "results.json").write_text(
        json.dumps({"machine": machine, "benchmarks": rows}, indent=2) + "\n"
    )
    text = TABLE_FILE.read_text()
    rewritten = with_table(text, table(rows, machine))
    if rewritten != text:
        TABLE_FILE.write_text(rewritten)
    print(table(rows, machine))


if __name__ == "__main__":
    main(sys.argv[1:])
