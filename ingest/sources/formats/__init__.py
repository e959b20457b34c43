"""One decoder per payload format: a message's topic and bytes -> Decoded items."""
