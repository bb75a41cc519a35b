default
