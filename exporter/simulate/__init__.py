"""Hospital activity simulator, database access, weekly snapshot export and KPI ground truth.

Modules: `schema` (tables and columns), `refdata` (reference rows), `generator` (the pure,
deterministic activity stream), `dialect` and `db` (pyodbc access to PostgreSQL or SQL
Server), `writer` (applies the stream to a database), `live` (real-time mode), `snapshot`
(weekly snapshot run and CSV export), `groundtruth` (KPIs straight from the tables), `cli`.
"""
