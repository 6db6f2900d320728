"""svc_procure use cases: one module per aggregate; each takes `Units[ProcureUnit]`
(and the ports it calls), and each write is one unit of work."""
