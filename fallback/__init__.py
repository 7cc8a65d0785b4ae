"""The online fallback path (webhook, gating, review) the Coze bot calls when no intent matched."""
