"""Similarity across a class (`python -m grader similarity`): which submissions share code or prose
that is theirs, not the book's.

Every student starts from the same template and the homework text prints the book's code, so a plain
similarity score flags the whole class. Here each submission is reduced to what it adds: its code and
written answers are normalised (`tokens`), cut into winnowed k-gram fingerprints (`fingerprints`),
and everything that is also in the book (`book`: the template, `reference/`, the homework text) or
common across the class is removed before submissions are compared (`compare`). Staff read the
ranked pairs with the shared fragments side by side in `similarity.html`
(`grader.reports.similarity`). Never runs student code; no torch.
"""
