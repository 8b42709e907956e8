#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update && apt-get install -y python3 python3-pip python3-venv bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
# The property checks' examples, drawn once into the image (each submission would spend 1 s on them).
cd /autograder/source
HW2_GRADER_CACHE=/autograder/plans /autograder/venv/bin/python -m grader plans
