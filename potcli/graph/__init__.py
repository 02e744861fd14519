"""The model as a graph: reading it, asking about it, deciding where FakeQuantize goes (placement, ignored
scope, the device rules in potcli/rules/) and editing it through OpenVINO's own API (transform)."""
