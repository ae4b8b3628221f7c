"""`distgate reconcile`: ERP book stock against the projection, for finance."""
