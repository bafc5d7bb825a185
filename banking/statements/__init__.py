"""Monthly account statements: the figures (selectors) and the files (exports)."""
