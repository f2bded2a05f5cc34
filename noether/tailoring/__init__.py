"""tailoring stage (see DESIGN.md)."""
