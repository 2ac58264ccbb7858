"""Many crawler workers and one archive writer, coordinated through Redis (issue 11)."""
