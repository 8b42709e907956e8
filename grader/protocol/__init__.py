"""What crosses between the trusted parent and a child: frames, tensor files, the program's schema. A leaf: imports nothing else of the grader, and never pickles."""
