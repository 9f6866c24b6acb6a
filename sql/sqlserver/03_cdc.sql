-- Change data capture for Debezium's SQL Server connector.
--
-- Requirements:
--   * SQL Server 2019/2022, Standard, Enterprise or Developer edition (CDC is not in Express).
--   * SQL Server Agent running: CDC's capture job reads the transaction log into the change
--     tables and its cleanup job trims them; without the Agent no change reaches Debezium.
--   * Run as a member of sysadmin (sp_cdc_enable_db needs it), with sqlcmd, after
--     01_schema.sql. The Debezium login's password comes from the sqlcmd variable
--     DEBEZIUM_PASSWORD (sqlcmd -v DEBEZIUM_PASSWORD=... or an environment variable of that
--     name); it is never written in this file.

USE Hospital_Salam;
GO

-- Creates the cdc schema, the cdc user and the capture and cleanup Agent jobs.
IF (SELECT is_cdc_enabled FROM sys.databases WHERE name = DB_NAME()) = 0
    EXEC sys.sp_cdc_enable_db;
GO

-- The gating role: only its members may read the change tables.
IF DATABASE_PRINCIPAL_ID(N'cdc_reader') IS NULL
    CREATE ROLE cdc_reader;
GO

-- The four transactional tables and the four reference tables the exporter reads. Net
-- changes are not needed: Debezium reads every change in log order.
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.Visits'))
    EXEC sys.sp_cdc_enable_table
        @source_schema = N'dbo', @source_name = N'Visits',
        @role_name = N'cdc_reader', @supports_net_changes = 0;
GO
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.VisitStatusHistory'))
    EXEC sys.sp_cdc_enable_table
        @source_schema = N'dbo', @source_name = N'VisitStatusHistory',
        @role_name = N'cdc_reader', @supports_net_changes = 0;
GO
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.Admissions'))
    EXEC sys.sp_cdc_enable_table
        @source_schema = N'dbo', @source_name = N'Admissions',
        @role_name = N'cdc_reader', @supports_net_changes = 0;
GO
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.Bills'))
    EXEC sys.sp_cdc_enable_table
        @source_schema = N'dbo', @source_name = N'Bills',
        @role_name = N'cdc_reader', @supports_net_changes = 0;
GO
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.VisitClassification'))
    EXEC sys.sp_cdc_enable_table
        @source_schema = N'dbo', @source_name = N'VisitClassification',
        @role_name = N'cdc_reader', @supports_net_changes = 0;
GO
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.VisitStatus'))
    EXEC sys.sp_cdc_enable_table
        @source_schema = N'dbo', @source_name = N'VisitStatus',
        @role_name = N'cdc_reader', @supports_net_changes = 0;
GO
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.Speciality'))
    EXEC sys.sp_cdc_enable_table
        @source_schema = N'dbo', @source_name = N'Speciality',
        @role_name = N'cdc_reader', @supports_net_changes = 0;
GO
IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(N'dbo.Doctor_Speciality'))
    EXEC sys.sp_cdc_enable_table
        @source_schema = N'dbo', @source_name = N'Doctor_Speciality',
        @role_name = N'cdc_reader', @supports_net_changes = 0;
GO

-- Keep three days of changes (in minutes; the default is three days too), so a connector
-- that was down for a weekend can resume without a new snapshot.
EXEC sys.sp_cdc_change_job @job_type = N'cleanup', @retention = 4320;
GO

-- Least-privilege login for Debezium: read the captured tables (initial snapshot), read the
-- change tables through the gating role, and see the database's CDC state (current LSN).
IF SUSER_ID(N'debezium') IS NULL
    CREATE LOGIN debezium WITH PASSWORD = N'$(DEBEZIUM_PASSWORD)', CHECK_POLICY = ON;
GO
IF DATABASE_PRINCIPAL_ID(N'debezium') IS NULL
    CREATE USER debezium FOR LOGIN debezium;
GO
GRANT SELECT ON dbo.Visits TO debezium;
GRANT SELECT ON dbo.VisitStatusHistory TO debezium;
GRANT SELECT ON dbo.Admissions TO debezium;
GRANT SELECT ON dbo.Bills TO debezium;
GRANT SELECT ON dbo.VisitClassification TO debezium;
GRANT SELECT ON dbo.VisitStatus TO debezium;
GRANT SELECT ON dbo.Speciality TO debezium;
GRANT SELECT ON dbo.Doctor_Speciality TO debezium;
GO
ALTER ROLE cdc_reader ADD MEMBER debezium;
GO
GRANT VIEW DATABASE STATE TO debezium;
GO
