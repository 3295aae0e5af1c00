"""Common reads compiled into one PostgreSQL statement each (``HUB_COMPILE_QUERIES``)."""
