-- Change data capture for Debezium's PostgreSQL connector (pgoutput logical decoding).
--
-- Server settings this needs (postgresql.conf, applied at the next restart):
--   wal_level = logical          -- the WAL must carry enough to rebuild row changes
--   max_replication_slots = 10   -- one slot per connector; a slot keeps the WAL it still needs
--   max_wal_senders = 10         -- one WAL sender process per streaming connector
-- and a pg_hba.conf line that lets the role in, with a password:
--   host  replication,hospital_salam  debezium  <Connect host>/32  scram-sha-256
--
-- The role's password is set from outside, never from this file:
--   ALTER ROLE debezium PASSWORD '...';   (devstack and `simulate load-schema` do it from
--   the HOSPITAL_DEBEZIUM_PASSWORD environment variable)
-- Run as a superuser, after 01_schema.sql.

SET search_path = dbo, public;

-- Without this, an UPDATE or DELETE event carries only the primary key of the old row; FULL
-- logs the whole old row, as SQL Server CDC's "before" image does.
ALTER TABLE Visits REPLICA IDENTITY FULL;
ALTER TABLE VisitStatusHistory REPLICA IDENTITY FULL;
ALTER TABLE Admissions REPLICA IDENTITY FULL;
ALTER TABLE Bills REPLICA IDENTITY FULL;
ALTER TABLE VisitClassification REPLICA IDENTITY FULL;
ALTER TABLE VisitStatus REPLICA IDENTITY FULL;
ALTER TABLE Speciality REPLICA IDENTITY FULL;
ALTER TABLE Doctor_Speciality REPLICA IDENTITY FULL;

-- The set of tables whose changes are published; Debezium reads it with
-- publication.name=hospital_cdc and publication.autocreate.mode=disabled, so the connector
-- needs no table ownership.
CREATE PUBLICATION hospital_cdc FOR TABLE
    Visits, VisitStatusHistory, Admissions, Bills,
    VisitClassification, VisitStatus, Speciality, Doctor_Speciality;

-- Least privilege: REPLICATION to open a replication slot, SELECT for the initial snapshot.
-- Roles belong to the whole cluster, so a second database reuses the existing one.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'debezium') THEN
        CREATE ROLE debezium WITH LOGIN REPLICATION;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO debezium', current_database());
END
$$;
GRANT USAGE ON SCHEMA dbo TO debezium;
GRANT SELECT ON Visits, VisitStatusHistory, Admissions, Bills,
    VisitClassification, VisitStatus, Speciality, Doctor_Speciality TO debezium;
