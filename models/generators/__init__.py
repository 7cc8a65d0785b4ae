"""Generator backends (implementations of ``models.ports.Generator``).

Nothing is re-exported here on purpose: ``models.generators.transformers`` pulls in torch and
transformers, so callers go through ``models.factory.build_generator``, which imports the chosen
backend lazily.
"""
