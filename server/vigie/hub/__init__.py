"""The hub: thin WebSocket and HTTP endpoints over the domain core and the stores."""
