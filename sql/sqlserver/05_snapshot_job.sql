-- SQL Server Agent job that runs RunWeeklySnapshot every Monday at 01:00 server time (the
-- server's clock is the hospital's local time). Monday 01:00 leaves an hour for late status
-- changes of Sunday night to be recorded. Needs SQL Server Agent running; run as sysadmin
-- or a member of SQLAgentOperatorRole. Running it again replaces the job.

USE msdb;
GO

IF EXISTS (SELECT 1 FROM msdb.dbo.sysjobs WHERE name = N'Hospital_Salam weekly snapshot')
    EXEC msdb.dbo.sp_delete_job @job_name = N'Hospital_Salam weekly snapshot';
GO

EXEC msdb.dbo.sp_add_job
    @job_name = N'Hospital_Salam weekly snapshot',
    @description = N'Copies last week (Monday to Monday, local time) into the Weekly_* tables.',
    @enabled = 1;
GO

EXEC msdb.dbo.sp_add_jobstep
    @job_name = N'Hospital_Salam weekly snapshot',
    @step_name = N'RunWeeklySnapshot',
    @subsystem = N'TSQL',
    @database_name = N'Hospital_Salam',
    @command = N'EXEC dbo.RunWeeklySnapshot;',
    @retry_attempts = 2,
    @retry_interval = 15;
GO

-- freq_type 8 = weekly, freq_interval 2 = Monday, start 01:00:00.
EXEC msdb.dbo.sp_add_schedule
    @schedule_name = N'Hospital_Salam weekly, Monday 01:00',
    @freq_type = 8,
    @freq_interval = 2,
    @freq_recurrence_factor = 1,
    @active_start_time = 10000;
GO

EXEC msdb.dbo.sp_attach_schedule
    @job_name = N'Hospital_Salam weekly snapshot',
    @schedule_name = N'Hospital_Salam weekly, Monday 01:00';
GO

EXEC msdb.dbo.sp_add_jobserver
    @job_name = N'Hospital_Salam weekly snapshot',
    @server_name = N'(local)';
GO
