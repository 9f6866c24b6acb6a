-- Weekly snapshot tables and the procedure that fills them, PostgreSQL edition.
--
-- A week runs from Monday 00:00 to the next Monday 00:00, hospital local time (the
-- tables hold local wall-clock times). A row belongs to the week of its own time column:
-- Visits.VisitDate, VisitStatusHistory.StatusTime, Admissions.AdmissionDate, Bills.BillDate;
-- BillItems follow their bill. Rows are copied as they are when the snapshot runs (a bill
-- paid after the run keeps its earlier status in the copy until the week is run again).
-- Without an argument the procedure snapshots last week as seen from LOCALTIMESTAMP, so
-- the database's TimeZone setting must be the hospital's (ALTER DATABASE ... SET timezone).
-- Running a week again replaces that week's rows: it never duplicates them.

SET search_path = dbo, public;

CREATE TABLE Weekly_Visits (
    WeekStart         DATE NOT NULL,
    VisitID           INT NOT NULL,
    PatientID         INT NOT NULL,
    DoctorID          INT NULL,
    ClassificationID  INT NOT NULL,
    TypeID            INT NOT NULL,
    VisitDate         TIMESTAMP(0) NOT NULL,
    CONSTRAINT PK_Weekly_Visits PRIMARY KEY (WeekStart, VisitID)
);

CREATE TABLE Weekly_VisitStatusHistory (
    WeekStart   DATE NOT NULL,
    HistoryID   INT NOT NULL,
    VisitID     INT NOT NULL,
    StatusID    INT NOT NULL,
    StatusTime  TIMESTAMP(0) NOT NULL,
    CONSTRAINT PK_Weekly_VisitStatusHistory PRIMARY KEY (WeekStart, HistoryID)
);

CREATE TABLE Weekly_Admissions (
    WeekStart      DATE NOT NULL,
    AdmissionID    INT NOT NULL,
    VisitID        INT NOT NULL,
    BedID          INT NULL,
    AdmissionDate  TIMESTAMP(0) NOT NULL,
    DischargeDate  TIMESTAMP(0) NULL,
    CONSTRAINT PK_Weekly_Admissions PRIMARY KEY (WeekStart, AdmissionID)
);

CREATE TABLE Weekly_Bills (
    WeekStart      DATE NOT NULL,
    BillID         INT NOT NULL,
    VisitID        INT NULL,
    AdmissionID    INT NULL,
    PayerTypeID    INT NOT NULL,
    BillDate       TIMESTAMP(0) NOT NULL,
    TotalAmount    NUMERIC(12,2) NOT NULL,
    PaymentStatus  VARCHAR(10) NOT NULL,
    PaymentDate    TIMESTAMP(0) NULL,
    CONSTRAINT PK_Weekly_Bills PRIMARY KEY (WeekStart, BillID)
);

CREATE TABLE Weekly_BillItems (
    WeekStart   DATE NOT NULL,
    BillItemID  INT NOT NULL,
    BillID      INT NOT NULL,
    ServiceID   INT NOT NULL,
    Quantity    INT NOT NULL,
    Price       NUMERIC(12,2) NOT NULL,
    CONSTRAINT PK_Weekly_BillItems PRIMARY KEY (WeekStart, BillItemID)
);

-- One row per week that was taken, with when and how many rows.
CREATE TABLE Weekly_SnapshotRuns (
    WeekStart  DATE          NOT NULL PRIMARY KEY,
    TakenAt    TIMESTAMP(0)  NOT NULL,
    RowCounts  VARCHAR(400)  NOT NULL
);

CREATE OR REPLACE PROCEDURE RunWeeklySnapshot(p_week_start DATE DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    -- date_trunc('week', ...) is the ISO week: it starts on Monday.
    v_start DATE := COALESCE(p_week_start,
                             CAST(date_trunc('week', LOCALTIMESTAMP) - INTERVAL '7 days' AS DATE));
    v_from TIMESTAMP(0) := CAST(v_start AS TIMESTAMP(0));
    v_to TIMESTAMP(0) := CAST(v_start + 7 AS TIMESTAMP(0));
    n BIGINT;
    counts TEXT := '';
BEGIN
    IF EXTRACT(ISODOW FROM v_start) <> 1 THEN
        RAISE EXCEPTION 'week start % is not a Monday', v_start;
    END IF;

    -- Replace, never add: the whole week is deleted and copied in the caller's transaction.
    DELETE FROM Weekly_BillItems WHERE WeekStart = v_start;
    DELETE FROM Weekly_Bills WHERE WeekStart = v_start;
    DELETE FROM Weekly_Admissions WHERE WeekStart = v_start;
    DELETE FROM Weekly_VisitStatusHistory WHERE WeekStart = v_start;
    DELETE FROM Weekly_Visits WHERE WeekStart = v_start;

    INSERT INTO Weekly_Visits (WeekStart, VisitID, PatientID, DoctorID, ClassificationID, TypeID, VisitDate)
    SELECT v_start, VisitID, PatientID, DoctorID, ClassificationID, TypeID, VisitDate
    FROM Visits WHERE VisitDate >= v_from AND VisitDate < v_to;
    GET DIAGNOSTICS n = ROW_COUNT;
    counts := counts || format(' Visits=%s', n);
    INSERT INTO Weekly_VisitStatusHistory (WeekStart, HistoryID, VisitID, StatusID, StatusTime)
    SELECT v_start, HistoryID, VisitID, StatusID, StatusTime
    FROM VisitStatusHistory WHERE StatusTime >= v_from AND StatusTime < v_to;
    GET DIAGNOSTICS n = ROW_COUNT;
    counts := counts || format(' VisitStatusHistory=%s', n);
    INSERT INTO Weekly_Admissions (WeekStart, AdmissionID, VisitID, BedID, AdmissionDate, DischargeDate)
    SELECT v_start, AdmissionID, VisitID, BedID, AdmissionDate, DischargeDate
    FROM Admissions WHERE AdmissionDate >= v_from AND AdmissionDate < v_to;
    GET DIAGNOSTICS n = ROW_COUNT;
    counts := counts || format(' Admissions=%s', n);
    INSERT INTO Weekly_Bills (WeekStart, BillID, VisitID, AdmissionID, PayerTypeID, BillDate, TotalAmount, PaymentStatus, PaymentDate)
    SELECT v_start, BillID, VisitID, AdmissionID, PayerTypeID, BillDate, TotalAmount, PaymentStatus, PaymentDate
    FROM Bills WHERE BillDate >= v_from AND BillDate < v_to;
    GET DIAGNOSTICS n = ROW_COUNT;
    counts := counts || format(' Bills=%s', n);
    INSERT INTO Weekly_BillItems (WeekStart, BillItemID, BillID, ServiceID, Quantity, Price)
    SELECT v_start, i.BillItemID, i.BillID, i.ServiceID, i.Quantity, i.Price
    FROM BillItems i JOIN Bills b ON b.BillID = i.BillID
    WHERE b.BillDate >= v_from AND b.BillDate < v_to;
    GET DIAGNOSTICS n = ROW_COUNT;
    counts := counts || format(' BillItems=%s', n);

    INSERT INTO Weekly_SnapshotRuns (WeekStart, TakenAt, RowCounts)
    VALUES (v_start, LOCALTIMESTAMP(0), ltrim(counts))
    ON CONFLICT (WeekStart) DO UPDATE
        SET TakenAt = EXCLUDED.TakenAt, RowCounts = EXCLUDED.RowCounts;
    RAISE NOTICE 'weekly snapshot % to %:%', v_from, v_to, counts;
END
$$;
