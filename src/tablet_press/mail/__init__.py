"""`tablet send`: the published email handed to the organisation's mail relay."""
