"""HTTP API, CLI and process wiring: the only package that imports all the others."""
