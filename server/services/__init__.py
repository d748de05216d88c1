"""Services: what the HTTP handlers call. They write the store, keep the proposal cache watching what hotspots
show, and map rows to the JSON residents and staff receive. No aiohttp request in here: a service gets the
application's parts it needs, so it can be called from anywhere (HTTP today, meetings tomorrow)."""
