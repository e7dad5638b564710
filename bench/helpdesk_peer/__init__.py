"""django-helpdesk as the peer of bench/load_bench.py (--helpdesk): its own Django project, run from a separate
virtual environment that has django-helpdesk installed (it is not a jiesu dependency)."""
