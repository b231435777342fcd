"""The settings service: tenants and the customer-section settings, event-sourced."""
