"""What course staff decide beyond the checks: late work (`late`) and manual points (`adjustments`).

Both are applied when a class's files are rebuilt, to every student's results, so that changing a
due date or a manual point needs no regrade, and both are shown in every report: the gradebook,
results.json and the student's feedback. Pure: no torch, no pytest.
"""
