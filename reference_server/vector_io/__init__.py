"""Vector IO providers: where a vector db's chunks and their embeddings live and are searched."""
