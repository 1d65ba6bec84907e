"""MagnusBilling: the VoIP billing platform we write customer status to."""
