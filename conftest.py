"""Root conftest: registers the grading plugin (which loads the Hypothesis profiles, see
`grader.checking.profiles`); nothing else."""

pytest_plugins = ["grader.plugin"]
