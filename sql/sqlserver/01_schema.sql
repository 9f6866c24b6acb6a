-- Hospital operational schema, SQL Server 2019/2022 edition.
-- Kept table-for-table and column-for-column in step with sql/postgres/01_schema.sql.
-- Times are hospital local wall-clock time (DATETIME2(0), no zone), as the hospital
-- information system records them; money is DECIMAL(12,2); names are NVARCHAR so that
-- Arabic and other scripts are stored as typed.
-- Run with sqlcmd (GO separates batches) as a login allowed to create the database.

IF DB_ID(N'Hospital_Salam') IS NULL
    CREATE DATABASE Hospital_Salam;
GO
USE Hospital_Salam;
GO

-- ---------------------------------------------------------------------------------------
-- People
-- ---------------------------------------------------------------------------------------
CREATE TABLE dbo.Patients (
    PatientID          INT IDENTITY(1,1) PRIMARY KEY,
    FirstName          NVARCHAR(50)  NOT NULL,
    LastName           NVARCHAR(50)  NOT NULL,
    Phone              VARCHAR(20)  NULL,
    Age                SMALLINT     NOT NULL CONSTRAINT CK_Patients_Age CHECK (Age BETWEEN 0 AND 130),
    Gender             CHAR(1)      NOT NULL CONSTRAINT CK_Patients_Gender CHECK (Gender IN ('M', 'F')),
    Nationality        NVARCHAR(50)  NULL,
    InsuranceProvider  NVARCHAR(100) NULL
);
GO

CREATE TABLE dbo.Doctors (
    DoctorID   INT IDENTITY(1,1) PRIMARY KEY,
    FirstName  NVARCHAR(50)  NOT NULL,
    LastName   NVARCHAR(50)  NOT NULL,
    Phone      VARCHAR(20)  NULL,
    Email      VARCHAR(100) NULL
);
GO

CREATE TABLE dbo.Speciality (
    SpecialityID    INT          PRIMARY KEY,
    SpecialityName  NVARCHAR(50)  NOT NULL CONSTRAINT UQ_Speciality_Name UNIQUE,
    Location        NVARCHAR(100) NULL
);
GO

CREATE TABLE dbo.Doctor_Speciality (
    DoctorID      INT     NOT NULL CONSTRAINT FK_DoctorSpeciality_Doctor REFERENCES dbo.Doctors (DoctorID),
    SpecialityID  INT     NOT NULL CONSTRAINT FK_DoctorSpeciality_Speciality REFERENCES dbo.Speciality (SpecialityID),
    IsPrimary     BIT     NOT NULL CONSTRAINT DF_DoctorSpeciality_IsPrimary DEFAULT 0,
    CONSTRAINT PK_Doctor_Speciality PRIMARY KEY (DoctorID, SpecialityID)
);
GO
-- At most one primary speciality per doctor.
CREATE UNIQUE INDEX UX_DoctorSpeciality_Primary ON dbo.Doctor_Speciality (DoctorID) WHERE IsPrimary = 1;
GO

-- ---------------------------------------------------------------------------------------
-- Places
-- ---------------------------------------------------------------------------------------
CREATE TABLE dbo.Wards (
    WardID    INT          PRIMARY KEY,
    WardName  NVARCHAR(50)  NOT NULL CONSTRAINT UQ_Wards_Name UNIQUE,
    WardType  NVARCHAR(30)  NOT NULL,
    Location  NVARCHAR(100) NULL
);
GO

CREATE TABLE dbo.Beds (
    BedID      INT         PRIMARY KEY,
    BedNumber  VARCHAR(10) NOT NULL,
    WardID     INT         NOT NULL CONSTRAINT FK_Beds_Ward REFERENCES dbo.Wards (WardID),
    BedType    NVARCHAR(30) NOT NULL,
    CONSTRAINT UQ_Beds_WardNumber UNIQUE (WardID, BedNumber)
);
GO

-- ---------------------------------------------------------------------------------------
-- Visits and their statuses
-- ---------------------------------------------------------------------------------------
CREATE TABLE dbo.VisitClassification (
    ClassificationID    INT         PRIMARY KEY,
    ClassificationName  NVARCHAR(30) NOT NULL CONSTRAINT UQ_VisitClassification_Name UNIQUE
);
GO

CREATE TABLE dbo.VisitType (
    TypeID            INT         PRIMARY KEY,
    TypeName          NVARCHAR(50) NOT NULL CONSTRAINT UQ_VisitType_Name UNIQUE,
    ClassificationID  INT         NOT NULL CONSTRAINT FK_VisitType_Classification
                                  REFERENCES dbo.VisitClassification (ClassificationID)
);
GO

CREATE TABLE dbo.VisitStatus (
    StatusID    INT         PRIMARY KEY,
    StatusName  NVARCHAR(30) NOT NULL CONSTRAINT UQ_VisitStatus_Name UNIQUE
);
GO

CREATE TABLE dbo.Visits (
    VisitID           INT IDENTITY(1,1) PRIMARY KEY,
    PatientID         INT          NOT NULL CONSTRAINT FK_Visits_Patient REFERENCES dbo.Patients (PatientID),
    -- NULL until triage or the front desk assigns a doctor.
    DoctorID          INT          NULL CONSTRAINT FK_Visits_Doctor REFERENCES dbo.Doctors (DoctorID),
    ClassificationID  INT          NOT NULL CONSTRAINT FK_Visits_Classification
                                   REFERENCES dbo.VisitClassification (ClassificationID),
    TypeID            INT          NOT NULL CONSTRAINT FK_Visits_Type REFERENCES dbo.VisitType (TypeID),
    VisitDate         DATETIME2(0) NOT NULL
);
GO
CREATE INDEX IX_Visits_VisitDate ON dbo.Visits (VisitDate);
GO
CREATE INDEX IX_Visits_Patient ON dbo.Visits (PatientID);
GO
CREATE INDEX IX_Visits_Doctor ON dbo.Visits (DoctorID);
GO

CREATE TABLE dbo.VisitStatusHistory (
    HistoryID   INT IDENTITY(1,1) PRIMARY KEY,
    VisitID     INT          NOT NULL CONSTRAINT FK_VisitStatusHistory_Visit REFERENCES dbo.Visits (VisitID),
    StatusID    INT          NOT NULL CONSTRAINT FK_VisitStatusHistory_Status REFERENCES dbo.VisitStatus (StatusID),
    StatusTime  DATETIME2(0) NOT NULL
);
GO
-- A visit's current status: its latest row by (StatusTime, HistoryID).
CREATE INDEX IX_VisitStatusHistory_Visit_Time ON dbo.VisitStatusHistory (VisitID, StatusTime, HistoryID);
GO
CREATE INDEX IX_VisitStatusHistory_Time ON dbo.VisitStatusHistory (StatusTime);
GO

-- ---------------------------------------------------------------------------------------
-- Admissions and operations
-- ---------------------------------------------------------------------------------------
CREATE TABLE dbo.Admissions (
    AdmissionID    INT IDENTITY(1,1) PRIMARY KEY,
    VisitID        INT          NOT NULL CONSTRAINT FK_Admissions_Visit REFERENCES dbo.Visits (VisitID),
    -- NULL while the patient boards in the emergency department waiting for a free bed.
    BedID          INT          NULL CONSTRAINT FK_Admissions_Bed REFERENCES dbo.Beds (BedID),
    AdmissionDate  DATETIME2(0) NOT NULL,
    DischargeDate  DATETIME2(0) NULL,
    -- One admission per visit.
    CONSTRAINT UQ_Admissions_Visit UNIQUE (VisitID),
    CONSTRAINT CK_Admissions_Dates CHECK (DischargeDate IS NULL OR DischargeDate >= AdmissionDate)
);
GO
CREATE INDEX IX_Admissions_AdmissionDate ON dbo.Admissions (AdmissionDate);
GO
-- Current inpatients.
CREATE INDEX IX_Admissions_Open ON dbo.Admissions (AdmissionID) WHERE DischargeDate IS NULL;
GO

CREATE TABLE dbo.OperationType (
    OperationTypeID  INT          PRIMARY KEY,
    OperationName    NVARCHAR(100) NOT NULL CONSTRAINT UQ_OperationType_Name UNIQUE
);
GO

CREATE TABLE dbo.OperationSessions (
    OperationSessionID  INT IDENTITY(1,1) PRIMARY KEY,
    AdmissionID         INT          NOT NULL CONSTRAINT FK_OperationSessions_Admission
                                     REFERENCES dbo.Admissions (AdmissionID),
    OperationTypeID     INT          NOT NULL CONSTRAINT FK_OperationSessions_Type
                                     REFERENCES dbo.OperationType (OperationTypeID),
    SurgeonID           INT          NOT NULL CONSTRAINT FK_OperationSessions_Surgeon
                                     REFERENCES dbo.Doctors (DoctorID),
    StartTime           DATETIME2(0) NOT NULL,
    EndTime             DATETIME2(0) NULL,
    CONSTRAINT CK_OperationSessions_Times CHECK (EndTime IS NULL OR EndTime > StartTime)
);
GO
CREATE INDEX IX_OperationSessions_Admission ON dbo.OperationSessions (AdmissionID);
GO
CREATE INDEX IX_OperationSessions_StartTime ON dbo.OperationSessions (StartTime);
GO

-- ---------------------------------------------------------------------------------------
-- Emergency department
-- ---------------------------------------------------------------------------------------
CREATE TABLE dbo.TriageLevels (
    TriageLevelID     INT         PRIMARY KEY,
    LevelDescription  NVARCHAR(50) NOT NULL CONSTRAINT UQ_TriageLevels_Description UNIQUE
);
GO

CREATE TABLE dbo.EmergencyDetails (
    EmergencyDetailID  INT IDENTITY(1,1) PRIMARY KEY,
    VisitID            INT          NOT NULL CONSTRAINT FK_EmergencyDetails_Visit REFERENCES dbo.Visits (VisitID),
    TriageLevelID      INT          NOT NULL CONSTRAINT FK_EmergencyDetails_Triage
                                    REFERENCES dbo.TriageLevels (TriageLevelID),
    ChiefComplaint     NVARCHAR(200) NULL,
    -- Only emergency visits have details, at most one row each.
    CONSTRAINT UQ_EmergencyDetails_Visit UNIQUE (VisitID)
);
GO

-- ---------------------------------------------------------------------------------------
-- Appointments
-- ---------------------------------------------------------------------------------------
CREATE TABLE dbo.Appointments (
    AppointmentID    INT IDENTITY(1,1) PRIMARY KEY,
    PatientID        INT          NOT NULL CONSTRAINT FK_Appointments_Patient REFERENCES dbo.Patients (PatientID),
    DoctorID         INT          NOT NULL CONSTRAINT FK_Appointments_Doctor REFERENCES dbo.Doctors (DoctorID),
    AppointmentDate  DATE         NOT NULL,
    AppointmentTime  TIME(0)      NOT NULL,
    Purpose          NVARCHAR(200) NULL,
    Status           VARCHAR(20) NOT NULL CONSTRAINT DF_Appointments_Status DEFAULT 'Scheduled',
    VisitID          INT          NULL CONSTRAINT FK_Appointments_Visit REFERENCES dbo.Visits (VisitID),
    CONSTRAINT CK_Appointments_Status
        CHECK (Status IN ('Scheduled', 'Completed', 'Cancelled', 'No-Show')),
    -- Only an attended appointment points at the visit it became.
    CONSTRAINT CK_Appointments_Visit CHECK (VisitID IS NULL OR Status = 'Completed')
);
GO
CREATE INDEX IX_Appointments_Date ON dbo.Appointments (AppointmentDate, AppointmentTime);
GO
CREATE INDEX IX_Appointments_Doctor ON dbo.Appointments (DoctorID, AppointmentDate);
GO
-- One appointment becomes at most one visit.
CREATE UNIQUE INDEX UX_Appointments_Visit ON dbo.Appointments (VisitID) WHERE VisitID IS NOT NULL;
GO

-- ---------------------------------------------------------------------------------------
-- Billing
-- ---------------------------------------------------------------------------------------
CREATE TABLE dbo.PayerTypes (
    PayerTypeID    INT         PRIMARY KEY,
    PayerTypeName  NVARCHAR(30) NOT NULL CONSTRAINT UQ_PayerTypes_Name UNIQUE
);
GO

CREATE TABLE dbo.ServiceCatalog (
    ServiceID    INT           PRIMARY KEY,
    ServiceName  NVARCHAR(100)  NOT NULL CONSTRAINT UQ_ServiceCatalog_Name UNIQUE,
    Price        DECIMAL(12,2) NOT NULL CONSTRAINT CK_ServiceCatalog_Price CHECK (Price >= 0),
    Description  NVARCHAR(200)  NULL
);
GO

CREATE TABLE dbo.Bills (
    BillID         INT IDENTITY(1,1) PRIMARY KEY,
    VisitID        INT           NULL CONSTRAINT FK_Bills_Visit REFERENCES dbo.Visits (VisitID),
    AdmissionID    INT           NULL CONSTRAINT FK_Bills_Admission REFERENCES dbo.Admissions (AdmissionID),
    PayerTypeID    INT           NOT NULL CONSTRAINT FK_Bills_PayerType REFERENCES dbo.PayerTypes (PayerTypeID),
    BillDate       DATETIME2(0)  NOT NULL,
    TotalAmount    DECIMAL(12,2) NOT NULL CONSTRAINT CK_Bills_Total CHECK (TotalAmount >= 0),
    PaymentStatus  VARCHAR(10)  NOT NULL CONSTRAINT DF_Bills_PaymentStatus DEFAULT 'Pending',
    PaymentDate    DATETIME2(0)  NULL,
    -- A bill belongs to a visit or to an admission, never to both.
    CONSTRAINT CK_Bills_Owner CHECK (
        (VisitID IS NOT NULL AND AdmissionID IS NULL)
        OR (VisitID IS NULL AND AdmissionID IS NOT NULL)),
    CONSTRAINT CK_Bills_PaymentStatus CHECK (PaymentStatus IN ('Pending', 'Paid', 'Cancelled')),
    -- A paid bill has a payment time; a pending one has none yet.
    CONSTRAINT CK_Bills_PaymentDate CHECK (
        (PaymentStatus = 'Paid' AND PaymentDate IS NOT NULL)
        OR (PaymentStatus = 'Pending' AND PaymentDate IS NULL)
        OR PaymentStatus = 'Cancelled')
);
GO
CREATE INDEX IX_Bills_Visit ON dbo.Bills (VisitID);
GO
CREATE INDEX IX_Bills_Admission ON dbo.Bills (AdmissionID);
GO
CREATE INDEX IX_Bills_BillDate ON dbo.Bills (BillDate);
GO
CREATE INDEX IX_Bills_PaymentDate ON dbo.Bills (PaymentDate) WHERE PaymentStatus = 'Paid';
GO

CREATE TABLE dbo.BillItems (
    BillItemID  INT IDENTITY(1,1) PRIMARY KEY,
    BillID      INT           NOT NULL CONSTRAINT FK_BillItems_Bill REFERENCES dbo.Bills (BillID),
    ServiceID   INT           NOT NULL CONSTRAINT FK_BillItems_Service REFERENCES dbo.ServiceCatalog (ServiceID),
    Quantity    INT           NOT NULL CONSTRAINT CK_BillItems_Quantity CHECK (Quantity > 0),
    Price       DECIMAL(12,2) NOT NULL CONSTRAINT CK_BillItems_Price CHECK (Price >= 0)
);
GO
CREATE INDEX IX_BillItems_Bill ON dbo.BillItems (BillID);
GO
