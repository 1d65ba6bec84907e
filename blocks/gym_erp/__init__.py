"""The gym's ERP database (SQL Server in production): tables, card decryption, and its block.

Only SQLAlchemy Core, no dialect-specific SQL, so the same code runs on SQL Server, SQLite,
PostgreSQL and MariaDB.
"""
