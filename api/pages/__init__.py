"""Server-rendered pages: the citizen's (citizen.py) and the staff console's (staff*.py), on the same services
as the JSON API."""
