"""One module per dashboard page (or pair of page and form)."""
