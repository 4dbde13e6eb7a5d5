"""`tablet import`: Word drafts into issue bundles."""
