"""Authentication: who is calling (a `Principal`), decided before anything else runs."""
