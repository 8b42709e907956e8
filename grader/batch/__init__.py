"""Grading many submissions: one worker for the local pool and for Ray, core pinning, the output folder."""
