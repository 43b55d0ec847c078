"""One module per resource; each declares a `router`, registered in backend/api/app.py."""
