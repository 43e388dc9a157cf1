"""Resources a stack registers (models now; shields and vector dbs arrive with their APIs)."""
