"""The customer section's rules as every service applies them: the settings as a consumer of
`settings.events.v1` sees them (a projection per tenant), and the checks of a customer's
values against those settings. The customers service applies them on every write; the
importer applies the same checks to every row before anything is sent, so that what it
reports is what the customers service would answer."""
