"""Many crawler workers and one archive writer, sharing their work through Redis (issue 11)."""
