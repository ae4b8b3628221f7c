"""`distgate demo`: a compressed distribution day, checked against the simulators' truth."""
