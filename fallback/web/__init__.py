"""The reviewer console: server-rendered pages under ``/review`` (Jinja2, no front-end build step).

``fallback.web.console.router`` is included by ``create_app``; the pages call the same store functions as
the JSON review API and make approvals servable at once, exactly as it does.
"""
