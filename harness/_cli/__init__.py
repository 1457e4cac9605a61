"""The engines behind ``harness init`` (``_init``, ``_openapi``) and ``harness try`` (``_try``); no pytest here."""
