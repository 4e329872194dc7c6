"""plait-skeleton: an example plait plugin (a tool and a verifier)."""
