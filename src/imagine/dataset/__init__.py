"""The consent-aware dataset: every post decided with a reason, versioned in Lance, revocations purged and proven.

Stages (one file each, plain picklable callables over ``pyarrow.RecordBatch``):
``consent`` -> ``caption`` -> ``load`` -> ``transform`` -> ``embed``, then the global ``dedupe``
and ``write``. ``runner`` runs the same stage objects in-process, in a process pool or on Ray Data.
"""
