#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu 22.04 or 24.04, as root).
# AUTOGRADER is the image's root (Gradescope's /autograder; a test sets another).
# A second run reuses the environment and installs only what is missing.
set -euo pipefail
AUTOGRADER="${AUTOGRADER:-/autograder}"
# bubblewrap is the sandbox student code runs in; python3 is the image's own (3.10 on 22.04).
apt-get update && apt-get install -y python3 python3-pip python3-venv bubblewrap
if ! python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "setup.sh: the grader needs Python 3.10 or newer; this image's python3 is $(python3 -V 2>&1)" >&2
  exit 1
fi
[ -x "$AUTOGRADER/venv/bin/python" ] || python3 -m venv "$AUTOGRADER/venv"
if ! "$AUTOGRADER/venv/bin/python" -c "import torch, torchvision" 2>/dev/null; then
  # A CPU build of torch: Gradescope's machines have no GPU (PyPI's default build brings CUDA).
  "$AUTOGRADER/venv/bin/python" -m pip install torch torchvision \
      --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple ||
    "$AUTOGRADER/venv/bin/python" -m pip install torch torchvision
fi
"$AUTOGRADER/venv/bin/python" -m pip install -r "$AUTOGRADER/source/requirements.txt"
# The property checks' examples, drawn once into the image (each submission would spend 1 s on them).
cd "$AUTOGRADER/source"
HW2_GRADER_CACHE="$AUTOGRADER/plans" "$AUTOGRADER/venv/bin/python" -m grader plans
