"""Stats: national and provincial figures from the counter buckets (who may read which province: `query.py`,
`resolve_province`), the completion feed ministry systems page through and its export (`completion_export.py`:
CSV, XLSX, NDJSON), and the figures as one workbook (`workbook.py`).

Owns: nothing it writes; reads counters, completions and feed lines. Must not touch: any write path.
"""
