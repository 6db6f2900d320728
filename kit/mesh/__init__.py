"""The mesh's policy, read from `mesh/istio/` (the files the cluster's Istio
applies) and enforced by the local runtime: who may call which method
(AuthorizationPolicy), and how a client calls a service (VirtualService
timeouts and retries, DestinationRule connection limits and outlier
detection)."""
