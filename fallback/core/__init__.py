"""The pure core: domain types, the gating policy, masking, normalisation, safety rules."""
