"""discovery stage (see DESIGN.md)."""
