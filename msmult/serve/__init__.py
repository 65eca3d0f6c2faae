"""``msmult serve``: a victim msmult trained, deployed over HTTP (the ``serve`` extra: FastAPI and
uvicorn). ``command`` parses the command line, ``build`` makes the victim and app, ``app`` holds
the routes, ``model`` the raw rows -> preprocessing -> victim -> defences path, ``limits`` the
per-key budget and rate."""
