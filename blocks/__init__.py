"""One package per external system: its Prefect block, its async client, its errors and models.

`blocks.errors` and `blocks.http` hold what every client shares.
"""
