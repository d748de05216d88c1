"""The HTTP layer: one route table (routes.py), thin handlers per resource, the request machinery (route.py).

A request goes: router -> `Route.endpoint` (authorise by the declared role, refuse or parse the body, parse the
query) -> the resource's handler (calls a service in server/services/) -> response; events the handler queued
are pushed to the rooms only after the response was built.
"""
