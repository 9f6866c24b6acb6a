#!/usr/bin/env bash
# Loads the hospital schema, reference data, CDC set-up and weekly snapshot procedure into the
# SQL Server container, once. Later runs only re-apply the CDC script, which is idempotent.
# Passwords arrive as environment variables: SQLCMDPASSWORD (sa) and DEBEZIUM_PASSWORD, the
# sqlcmd variable that 03_cdc.sql reads; neither appears on a command line.
set -euo pipefail

host=${SQLSERVER_HOST:-sqlserver}
scripts=${SQL_DIR:-/sql}
sqlcmd=(/opt/mssql-tools18/bin/sqlcmd -S "$host" -U sa -C -b -I)

query() {
  "${sqlcmd[@]}" -h -1 -W -Q "SET NOCOUNT ON; $1"
}

echo "waiting for SQL Server at $host"
for _ in $(seq 1 90); do
  query "SELECT 1" >/dev/null 2>&1 && break
  sleep 2
done
query "SELECT 1" >/dev/null

# CDC's capture job runs in SQL Server Agent: without it the connector starts but never sees
# a change. MSSQL_AGENT_ENABLED=true on the server container starts it.
agent=$(query "SELECT status_desc FROM sys.dm_server_services WHERE servicename LIKE 'SQL Server Agent%'")
if [ "$agent" != "Running" ]; then
  echo "SQL Server Agent is '${agent:-absent}'; set MSSQL_AGENT_ENABLED=true" >&2
  exit 1
fi

loaded=$(query "SELECT CASE WHEN OBJECT_ID(N'Hospital_Salam.dbo.Weekly_SnapshotRuns') IS NULL THEN 0 ELSE 1 END")
if [ "$loaded" = "0" ]; then
  for file in 01_schema.sql 02_reference_data.sql 03_cdc.sql 04_weekly_snapshot.sql; do
    echo "applying $file"
    "${sqlcmd[@]}" -i "$scripts/$file"
  done
else
  echo "Hospital_Salam already loaded; re-applying 03_cdc.sql"
  "${sqlcmd[@]}" -i "$scripts/03_cdc.sql"
fi
echo "SQL Server ready for Debezium"
