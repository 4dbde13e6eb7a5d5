"""tablet preview: the local server, the watcher and the worker that typesets."""
