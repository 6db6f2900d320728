"""svc_user as other services and the gateway call it: its JWKS, to verify
access tokens locally (see `client`)."""
