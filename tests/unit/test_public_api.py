"""The curated public API is deliberate: changing it must change this test."""

import flowplan


def test_public_api_is_pinned() -> None:
    assert sorted(flowplan.__all__) == sorted(
        [
            "FORMATS",
            "DataValidationError",
            "FlowplanError",
            "Grain",
            "IngestReport",
            "LocalTable",
            "ParsedFile",
            "Problem",
            "QuirkWarning",
            "Store",
            "StoreConflictError",
            "StoreError",
            "UsageError",
            "__version__",
            "read",
            "read_local_table",
        ]
    )
    for name in flowplan.__all__:
        assert hasattr(flowplan, name), name
    assert flowplan.__version__ == "0.1.0"
