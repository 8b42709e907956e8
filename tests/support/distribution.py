"""Running code from an unpacked distribution (the student kit, the Gradescope bundle) as it runs
on a student's laptop or in Gradescope's image: its own grader first on sys.path, `reference`
impossible to import."""

FROM_THE_DISTRIBUTION = """
import sys
sys.path.insert(0, sys.argv[1])

class NoReference:
    def find_spec(self, name, path=None, target=None):
        if name == "reference" or name.startswith("reference."):
            raise ImportError("the reference solutions are not part of this distribution")
        return None

sys.meta_path.insert(0, NoReference())
import grader
assert grader.__file__.startswith(sys.argv[1]), grader.__file__
"""
"""The start of a `python -c` script whose argv[1] is the distribution's folder."""
