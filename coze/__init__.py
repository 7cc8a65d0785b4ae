"""Everything that speaks Coze: the plugin spec, the knowledge-base push, the intent pack."""
