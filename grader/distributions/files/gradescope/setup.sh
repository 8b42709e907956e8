#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image. AUTOGRADER is the image's root
# (Gradescope's /autograder; a test sets another).
set -euo pipefail
AUTOGRADER="${AUTOGRADER:-/autograder}"
apt-get update && apt-get install -y python3 python3-pip python3-venv bubblewrap
python3 -m venv "$AUTOGRADER/venv"
# A CPU build of torch: Gradescope's machines have no GPU (PyPI's default build brings CUDA).
"$AUTOGRADER/venv/bin/pip" install torch torchvision \
    --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple ||
  "$AUTOGRADER/venv/bin/pip" install torch torchvision
"$AUTOGRADER/venv/bin/pip" install -r "$AUTOGRADER/source/requirements.txt"
# The property checks' examples, drawn once into the image (each submission would spend 1 s on them).
cd "$AUTOGRADER/source"
HW2_GRADER_CACHE="$AUTOGRADER/plans" "$AUTOGRADER/venv/bin/python" -m grader plans
