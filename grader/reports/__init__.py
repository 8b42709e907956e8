"""Reports as pure functions of the results: no torch, no pytest, no grading."""
