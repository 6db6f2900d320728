"""The shared runtime of the stockmesh services.

Everything every service does once lives here: settings, server bootstrap,
interceptors, error mapping, auth, storage, mTLS and the command line. Nothing
in this package knows a service's domain.
"""
