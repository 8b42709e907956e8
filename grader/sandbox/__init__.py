"""The parent's side of isolation: the isolation levels, the limits, the warm template's launcher, and the client for one child."""
