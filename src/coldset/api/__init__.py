"""The JSON API: every custody command an endpoint, with an OpenAPI document. See docs/api.md."""
