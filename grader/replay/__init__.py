"""Speed only: example plans, their cache on disk, and call scripts. Removable with the same verdicts."""
