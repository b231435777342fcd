"""The customers service: customers with their defaults, numbers and relationships.

It consumes `settings.events.v1` and publishes `customers.events.v1` (see DESIGN.md §4).
"""
