"""The importer service: asynchronous bulk imports of existing customer registers.

It consumes settings and customer events and sends batches on `customers.commands.v1`
(see DESIGN.md §4).
"""
