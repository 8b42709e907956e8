"""What a submission is, read from the files students hand in; never runs student code and imports no torch."""
