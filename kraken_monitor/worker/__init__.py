"""Background poll worker and headless runners (Qt threads, no widgets)."""
