"""The HTTP side: the JSON API (`routes/`, under /api) and the console's pages (`console/`), assembled in app.py."""
