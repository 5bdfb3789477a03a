"""Text made at the edge: number formats (and, beside them, sentences) shown by the UI and the CLI."""
