"""The REST/JSON edge: every `google.api.http` rule of the contracts served as
HTTP/JSON and transcoded to gRPC calls over mTLS, with the OpenAPI document
generated from the same descriptors."""
