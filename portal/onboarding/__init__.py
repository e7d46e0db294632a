"""Going live without the demo: the first root and admin from the command line, and the bulk
onboarding of enterprises and users from Excel with their account letters."""
