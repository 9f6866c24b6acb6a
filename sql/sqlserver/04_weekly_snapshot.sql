-- Weekly snapshot tables and the procedure that fills them, SQL Server edition.
--
-- A week runs from Monday 00:00 to the next Monday 00:00, hospital local time (the
-- tables hold local wall-clock times). A row belongs to the week of its own time column:
-- Visits.VisitDate, VisitStatusHistory.StatusTime, Admissions.AdmissionDate, Bills.BillDate;
-- BillItems follow their bill. Rows are copied as they are when the snapshot runs.
-- Without @WeekStart the procedure snapshots last week as seen from SYSDATETIME(), so the
-- server's clock must be in the hospital's time zone. Running a week again replaces that
-- week's rows: it never duplicates them.

USE Hospital_Salam;
GO

CREATE TABLE dbo.Weekly_Visits (
    WeekStart         DATE NOT NULL,
    VisitID           INT NOT NULL,
    PatientID         INT NOT NULL,
    DoctorID          INT NULL,
    ClassificationID  INT NOT NULL,
    TypeID            INT NOT NULL,
    VisitDate         DATETIME2(0) NOT NULL,
    CONSTRAINT PK_Weekly_Visits PRIMARY KEY (WeekStart, VisitID)
);
GO

CREATE TABLE dbo.Weekly_VisitStatusHistory (
    WeekStart   DATE NOT NULL,
    HistoryID   INT NOT NULL,
    VisitID     INT NOT NULL,
    StatusID    INT NOT NULL,
    StatusTime  DATETIME2(0) NOT NULL,
    CONSTRAINT PK_Weekly_VisitStatusHistory PRIMARY KEY (WeekStart, HistoryID)
);
GO

CREATE TABLE dbo.Weekly_Admissions (
    WeekStart      DATE NOT NULL,
    AdmissionID    INT NOT NULL,
    VisitID        INT NOT NULL,
    BedID          INT NULL,
    AdmissionDate  DATETIME2(0) NOT NULL,
    DischargeDate  DATETIME2(0) NULL,
    CONSTRAINT PK_Weekly_Admissions PRIMARY KEY (WeekStart, AdmissionID)
);
GO

CREATE TABLE dbo.Weekly_Bills (
    WeekStart      DATE NOT NULL,
    BillID         INT NOT NULL,
    VisitID        INT NULL,
    AdmissionID    INT NULL,
    PayerTypeID    INT NOT NULL,
    BillDate       DATETIME2(0) NOT NULL,
    TotalAmount    DECIMAL(12,2) NOT NULL,
    PaymentStatus  VARCHAR(10) NOT NULL,
    PaymentDate    DATETIME2(0) NULL,
    CONSTRAINT PK_Weekly_Bills PRIMARY KEY (WeekStart, BillID)
);
GO

CREATE TABLE dbo.Weekly_BillItems (
    WeekStart   DATE NOT NULL,
    BillItemID  INT NOT NULL,
    BillID      INT NOT NULL,
    ServiceID   INT NOT NULL,
    Quantity    INT NOT NULL,
    Price       DECIMAL(12,2) NOT NULL,
    CONSTRAINT PK_Weekly_BillItems PRIMARY KEY (WeekStart, BillItemID)
);
GO

CREATE TABLE dbo.Weekly_SnapshotRuns (
    WeekStart  DATE           NOT NULL PRIMARY KEY,
    TakenAt    DATETIME2(0)   NOT NULL,
    RowCounts  NVARCHAR(400)  NOT NULL
);
GO

CREATE OR ALTER PROCEDURE dbo.RunWeeklySnapshot
    @WeekStart DATE = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;  -- any error rolls the whole week back

    DECLARE @Today DATE = CAST(SYSDATETIME() AS DATE);
    -- 1900-01-01 was a Monday; counting days from it does not depend on SET DATEFIRST.
    IF @WeekStart IS NULL
        SET @WeekStart = DATEADD(DAY, -7 - DATEDIFF(DAY, '19000101', @Today) % 7, @Today);
    IF DATEDIFF(DAY, '19000101', @WeekStart) % 7 <> 0
        THROW 50001, N'RunWeeklySnapshot: @WeekStart must be a Monday', 1;

    DECLARE @From DATETIME2(0) = CAST(@WeekStart AS DATETIME2(0));
    DECLARE @To DATETIME2(0) = DATEADD(DAY, 7, @From);
    DECLARE @Counts NVARCHAR(400) = N'';

    BEGIN TRANSACTION;
    -- Replace, never add.
    DELETE FROM dbo.Weekly_BillItems WHERE WeekStart = @WeekStart;
    DELETE FROM dbo.Weekly_Bills WHERE WeekStart = @WeekStart;
    DELETE FROM dbo.Weekly_Admissions WHERE WeekStart = @WeekStart;
    DELETE FROM dbo.Weekly_VisitStatusHistory WHERE WeekStart = @WeekStart;
    DELETE FROM dbo.Weekly_Visits WHERE WeekStart = @WeekStart;

    INSERT INTO dbo.Weekly_Visits (WeekStart, VisitID, PatientID, DoctorID, ClassificationID, TypeID, VisitDate)
    SELECT @WeekStart, VisitID, PatientID, DoctorID, ClassificationID, TypeID, VisitDate
    FROM dbo.Visits WHERE VisitDate >= @From AND VisitDate < @To;
    SET @Counts = CONCAT(@Counts, N' Visits=', @@ROWCOUNT);
    INSERT INTO dbo.Weekly_VisitStatusHistory (WeekStart, HistoryID, VisitID, StatusID, StatusTime)
    SELECT @WeekStart, HistoryID, VisitID, StatusID, StatusTime
    FROM dbo.VisitStatusHistory WHERE StatusTime >= @From AND StatusTime < @To;
    SET @Counts = CONCAT(@Counts, N' VisitStatusHistory=', @@ROWCOUNT);
    INSERT INTO dbo.Weekly_Admissions (WeekStart, AdmissionID, VisitID, BedID, AdmissionDate, DischargeDate)
    SELECT @WeekStart, AdmissionID, VisitID, BedID, AdmissionDate, DischargeDate
    FROM dbo.Admissions WHERE AdmissionDate >= @From AND AdmissionDate < @To;
    SET @Counts = CONCAT(@Counts, N' Admissions=', @@ROWCOUNT);
    INSERT INTO dbo.Weekly_Bills (WeekStart, BillID, VisitID, AdmissionID, PayerTypeID, BillDate, TotalAmount, PaymentStatus, PaymentDate)
    SELECT @WeekStart, BillID, VisitID, AdmissionID, PayerTypeID, BillDate, TotalAmount, PaymentStatus, PaymentDate
    FROM dbo.Bills WHERE BillDate >= @From AND BillDate < @To;
    SET @Counts = CONCAT(@Counts, N' Bills=', @@ROWCOUNT);
    INSERT INTO dbo.Weekly_BillItems (WeekStart, BillItemID, BillID, ServiceID, Quantity, Price)
    SELECT @WeekStart, i.BillItemID, i.BillID, i.ServiceID, i.Quantity, i.Price
    FROM dbo.BillItems AS i JOIN dbo.Bills AS b ON b.BillID = i.BillID
    WHERE b.BillDate >= @From AND b.BillDate < @To;
    SET @Counts = CONCAT(@Counts, N' BillItems=', @@ROWCOUNT);

    MERGE dbo.Weekly_SnapshotRuns AS r
    USING (SELECT @WeekStart AS WeekStart) AS s ON r.WeekStart = s.WeekStart
    WHEN MATCHED THEN UPDATE SET TakenAt = SYSDATETIME(), RowCounts = LTRIM(@Counts)
    WHEN NOT MATCHED THEN INSERT (WeekStart, TakenAt, RowCounts)
        VALUES (@WeekStart, SYSDATETIME(), LTRIM(@Counts));
    COMMIT TRANSACTION;
END;
GO
