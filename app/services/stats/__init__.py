"""Stats: national and provincial figures from the counter buckets (who may read which province: `figures.py`,
`resolve_province`), and the completion feed ministry systems page through.

Owns: nothing it writes; reads counters, completions and feed lines. Must not touch: any write path.
"""
