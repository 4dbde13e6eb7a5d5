"""The archive: static pages, feed, search, the publication record and corrections."""
