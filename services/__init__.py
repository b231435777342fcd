"""The services of the customer section: settings, customers and importer."""
