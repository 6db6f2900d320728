"""Tools that use stockmesh from the outside, through its public REST API
(`stockmesh demo`). Nothing in the runtime or the services imports them."""
