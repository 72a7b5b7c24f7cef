"""Qt models over the catalog's named queries and the job runner; no SQL, no widgets."""
