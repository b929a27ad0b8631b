"""Page routes, one module per area. Each route parses, calls a service, renders."""
