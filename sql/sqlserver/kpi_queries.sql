-- Ground truth for the exporter's KPIs, computed straight from the tables (SQL Server).
-- Each query is named by the comment line before it; each ? stands for "now" in
-- hospital local wall-clock time (DATETIME2(0)); "today" is its date. Used by
-- exporter.simulate.groundtruth and the end-to-end tests; also handy in sqlcmd after
-- replacing ? with a timestamp literal.

-- name: visits_today_total
WITH p AS (SELECT CAST(CAST(? AS DATETIME2(0)) AS DATE) AS today)
SELECT COUNT(*) FROM dbo.Visits v, p
WHERE v.VisitDate >= p.today AND v.VisitDate < DATEADD(DAY, 1, CAST(p.today AS DATETIME2(0)));

-- name: visits_today_by_classification
WITH p AS (SELECT CAST(CAST(? AS DATETIME2(0)) AS DATE) AS today)
SELECT c.ClassificationName, COUNT(v.VisitID)
FROM p CROSS JOIN dbo.VisitClassification c
LEFT JOIN dbo.Visits v
       ON v.ClassificationID = c.ClassificationID
      AND v.VisitDate >= p.today AND v.VisitDate < DATEADD(DAY, 1, CAST(p.today AS DATETIME2(0)))
GROUP BY c.ClassificationName;

-- name: admissions_today
WITH p AS (SELECT CAST(CAST(? AS DATETIME2(0)) AS DATE) AS today)
SELECT COUNT(*) FROM dbo.Admissions a, p
WHERE a.AdmissionDate >= p.today AND a.AdmissionDate < DATEADD(DAY, 1, CAST(p.today AS DATETIME2(0)));

-- name: inpatients_now
SELECT COUNT(*) FROM dbo.Admissions WHERE DischargeDate IS NULL;

-- name: waiting_now
-- One row per waiting visit's (classification, speciality). A visit waits when its latest
-- status row (greatest StatusTime, then HistoryID) is 'Waiting', however old the visit.
-- Its speciality is its doctor's primary one, else the doctor's lowest SpecialityID,
-- else 'Unassigned'.
WITH latest AS (
    SELECT h.VisitID, h.StatusID,
           ROW_NUMBER() OVER (PARTITION BY h.VisitID
                              ORDER BY h.StatusTime DESC, h.HistoryID DESC) AS rn
    FROM dbo.VisitStatusHistory h
),
doctor_speciality AS (
    SELECT ds.DoctorID, ds.SpecialityID,
           ROW_NUMBER() OVER (PARTITION BY ds.DoctorID
                              ORDER BY CASE WHEN ds.IsPrimary = 1 THEN 0 ELSE 1 END,
                                       ds.SpecialityID) AS rn
    FROM dbo.Doctor_Speciality ds
)
SELECT c.ClassificationName, COALESCE(s.SpecialityName, 'Unassigned') AS SpecialityName,
       COUNT(*)
FROM latest l
JOIN dbo.VisitStatus st ON st.StatusID = l.StatusID AND st.StatusName = 'Waiting'
JOIN dbo.Visits v ON v.VisitID = l.VisitID
JOIN dbo.VisitClassification c ON c.ClassificationID = v.ClassificationID
LEFT JOIN doctor_speciality d ON d.DoctorID = v.DoctorID AND d.rn = 1
LEFT JOIN dbo.Speciality s ON s.SpecialityID = d.SpecialityID
WHERE l.rn = 1
GROUP BY c.ClassificationName, COALESCE(s.SpecialityName, 'Unassigned');

-- name: revenue_paid_today
WITH p AS (SELECT CAST(CAST(? AS DATETIME2(0)) AS DATE) AS today)
SELECT COALESCE(SUM(b.TotalAmount), 0) FROM dbo.Bills b, p
WHERE b.PaymentStatus = 'Paid' AND b.PaymentDate >= p.today AND b.PaymentDate < DATEADD(DAY, 1, CAST(p.today AS DATETIME2(0)));

-- name: classifications
SELECT ClassificationName FROM dbo.VisitClassification;

-- name: specialities
SELECT SpecialityName FROM dbo.Speciality;
