"""Page views of the registry: staff pages (``institutions``, ``people``, ``oversight``) and the public
pages under ``/services/`` (``public``)."""
