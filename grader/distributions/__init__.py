"""What the repository hands out: the student kit and the Gradescope bundle."""
