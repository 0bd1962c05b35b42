"""The web application (FastAPI + Jinja2 pages + JSON API); start it with ``flowplan serve``.

:func:`flowplan.web.app.create_app` builds the app; see ``docs/web.md``.
"""
