"""dsl stage (see DESIGN.md)."""
