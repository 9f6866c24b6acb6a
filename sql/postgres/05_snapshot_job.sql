-- Weekly schedule for RunWeeklySnapshot, PostgreSQL edition.
--
-- With pg_cron (it must be in shared_preload_libraries, so it is not on every server):
-- the block below registers the job each Monday at 01:00 in cron.timezone (set it to the
-- hospital's zone). Without pg_cron the block does nothing and a system cron line does
-- the same job, for example in the postgres user's crontab (CRON_TZ = hospital zone):
--
--   CRON_TZ=Asia/Amman
--   0 1 * * 1  psql -X -v ON_ERROR_STOP=1 -d hospital_salam -c 'CALL dbo.RunWeeklySnapshot()'
--
-- Monday 01:00 leaves an hour for late status changes of Sunday night to be recorded.
-- Running the week again later (by hand: CALL dbo.RunWeeklySnapshot('2024-03-04')) replaces
-- its rows.

DO $$
BEGIN
    IF current_setting('shared_preload_libraries') NOT LIKE '%pg_cron%' THEN
        RAISE NOTICE 'pg_cron is not loaded; schedule RunWeeklySnapshot with cron instead';
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS pg_cron;
    PERFORM cron.schedule_in_database('hospital-weekly-snapshot', '0 1 * * 1',
                                      'CALL dbo.RunWeeklySnapshot()', current_database());
END
$$;
