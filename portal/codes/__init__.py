"""一企一码: the QR code posted at every enterprise's gate, the poster it is printed on, and where a
scan leads (the public's tip form, or the enterprise's page for the people who work on it)."""
