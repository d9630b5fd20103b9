"""The staff desk in the browser: a Starlette app over the office's services."""
