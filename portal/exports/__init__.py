"""PDF (WeasyPrint) and Excel rendering, the inherited letterhead, and the public verify page."""
