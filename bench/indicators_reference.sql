-- Reference SQL of the benchmark ``xinqiao bench indicators``: the patient indicators of one period
-- for every region at every level, hand-written from the definitions (DOMAIN.md §6,
-- indicators/data/indicators.json "rules", docs/domain/indicators.md), independently of the engine
-- (indicators/patient_sql.py). The benchmark times it, and checks that the engine gives the same
-- numerator and denominator for every (indicator, region).
--
-- It returns one row per region (province, city, county, township) with the counts the patient
-- indicators are ratios of; bench/indicators.py turns them into (indicator, region) pairs:
--   prevalence                    registered ÷ resident population (RegionStatistic, see the bench)
--   managed_rate                  managed ÷ registered
--   standard_management_rate      standard ÷ registered
--   face_to_face_rate             face_to_face ÷ managed
--   medication_rate               medication ÷ registered
--   regular_medication_rate       regular ÷ registered
--   schizophrenia_medication_rate schizophrenia_medication ÷ schizophrenia_managed
--   stable_rate                   stable ÷ home_managed
--   community_rehab_rate          rehab ÷ home
--   incident_rate                 incident ÷ registered
--   minor_trouble_rate            minor ÷ registered
--
-- Definitions (E = period end, S = period start, W = the 12 months ending at E):
--   status at E      the to_status of the patient's last status change dated ≤ E (ties by id); without
--                    one, Patient.status when it dates from E or before (or has no date), else managed
--   registered       registered_on ≤ E and status at E not dead / moved out / deregistered
--   in hospital      status at E = in_hospital
--   visit            a follow-up with outcome "visited" dated in W
--   managed          registered, and a visit, or in hospital
--   standard         registered, ≥ min visits, no gap > max days between consecutive visits, nor from
--                    max(W start, registered_on) to the first, nor from the last to E
--   face to face     managed with a visit by method 1 (clinic) or 2 (home)
--   medication       registered; the last visit recorded adherence 1 or 2, or in hospital
--   regular          registered; the last visit recorded adherence 1
--   schizophrenia    diagnosis F20 (…_managed / …_medication as above)
--   home             registered and not in hospital; home_managed = managed and not in hospital
--   stable           home_managed; the last visit is at most `stable days` (92) before E (≥ E − 92) and
--                    is classified stable
--   rehab            home, with a personal information supplement saying community rehabilitation
--   incident / minor registered, with a visit dated in [S, E] (not W) recording 肇事 or 肇祸 / 轻度滋事
--
-- Parameters (pyformat, bound by Django's cursor on both databases): start, end, window_start,
-- recent_from, min_visits, max_gap, in_hospital, schizophrenia; {off_register}, {face_to_face},
-- {medication}, {regular} are expanded to lists of parameters by the bench.
--
-- Two dialects, each introduced by a "-- @" line: PostgreSQL (one statement, GROUPING SETS), and
-- SQLite (a temporary table of per-patient facts, then one GROUP BY per level).

-- @postgresql
WITH status_at_end AS (
    SELECT DISTINCT ON (s.patient_id) s.patient_id, s.to_status
    FROM patients_statuschange s
    WHERE s.changed_on <= %(end)s
    ORDER BY s.patient_id, s.changed_on DESC, s.id DESC
),
registered AS (
    SELECT p.id, p.province_code, p.city_code, p.county_code, p.township_code,
           p.diagnosis = %(schizophrenia)s AS schizophrenia,
           GREATEST(p.registered_on, %(window_start)s::date) AS clock_from,
           s.status = %(in_hospital)s AS in_hospital
    FROM patients_patient p
    LEFT JOIN status_at_end st ON st.patient_id = p.id
    CROSS JOIN LATERAL (SELECT COALESCE(st.to_status, CASE
        WHEN p.status_changed_on IS NULL OR p.status_changed_on <= %(end)s THEN p.status
        ELSE 'managed' END) AS status) s
    WHERE p.registered_on <= %(end)s AND s.status NOT IN ({off_register})
),
visits AS (
    SELECT f.patient_id, f.followup_date, f.method, f.adherence, f.classification,
           f.followup_date - LAG(f.followup_date) OVER w AS gap,
           LEAD(f.id) OVER w IS NULL AS is_last
    FROM followups_followup f
    WHERE f.outcome = 'visited' AND f.followup_date BETWEEN %(window_start)s AND %(end)s
    WINDOW w AS (PARTITION BY f.patient_id ORDER BY f.followup_date, f.id)
),
per_patient AS (
    SELECT v.patient_id, count(*) AS visits, min(v.followup_date) AS first_visit,
           max(v.followup_date) AS last_visit, COALESCE(max(v.gap), 0) AS max_gap,
           bool_or(v.method IN ({face_to_face})) AS face_to_face,
           max(v.adherence) FILTER (WHERE v.is_last) AS last_adherence,
           max(v.classification) FILTER (WHERE v.is_last) AS last_classification
    FROM visits v
    GROUP BY v.patient_id
),
events AS (
    SELECT f.patient_id, bool_or(f.trouble_count + f.disaster_count > 0) AS incident,
           bool_or(f.minor_trouble_count > 0) AS minor
    FROM followups_followup f
    WHERE f.outcome = 'visited' AND f.followup_date BETWEEN %(start)s AND %(end)s
      AND (f.trouble_count > 0 OR f.disaster_count > 0 OR f.minor_trouble_count > 0)
    GROUP BY f.patient_id
),
facts AS (
    SELECT r.province_code, r.city_code, r.county_code, r.township_code, r.schizophrenia, r.in_hospital,
           (v.patient_id IS NOT NULL OR r.in_hospital) AS managed,
           COALESCE(v.visits >= %(min_visits)s AND v.max_gap <= %(max_gap)s
                    AND v.first_visit - r.clock_from <= %(max_gap)s
                    AND %(end)s::date - v.last_visit <= %(max_gap)s, FALSE) AS standard,
           COALESCE(v.face_to_face, FALSE) AS face_to_face,
           (COALESCE(v.last_adherence IN ({medication}), FALSE) OR r.in_hospital) AS medication,
           COALESCE(v.last_adherence IN ({regular}), FALSE) AS regular,
           COALESCE(v.last_visit >= %(recent_from)s AND v.last_classification = %(stable)s, FALSE) AS stable,
           COALESCE(ps.community_rehab, FALSE) AS rehab,
           COALESCE(e.incident, FALSE) AS incident,
           COALESCE(e.minor, FALSE) AS minor
    FROM registered r
    LEFT JOIN per_patient v ON v.patient_id = r.id
    LEFT JOIN events e ON e.patient_id = r.id
    LEFT JOIN patients_personalsupplement ps ON ps.patient_id = r.id
)
SELECT COALESCE(CASE WHEN GROUPING(township_code) = 0 THEN township_code END,
                CASE WHEN GROUPING(county_code) = 0 THEN county_code END,
                CASE WHEN GROUPING(city_code) = 0 THEN city_code END,
                province_code) AS region,
       count(*) AS registered,
       count(*) FILTER (WHERE managed) AS managed,
       count(*) FILTER (WHERE standard) AS standard,
       count(*) FILTER (WHERE managed AND face_to_face) AS face_to_face,
       count(*) FILTER (WHERE medication) AS medication,
       count(*) FILTER (WHERE regular) AS regular,
       count(*) FILTER (WHERE schizophrenia AND managed) AS schizophrenia_managed,
       count(*) FILTER (WHERE schizophrenia AND managed AND medication) AS schizophrenia_medication,
       count(*) FILTER (WHERE managed AND NOT in_hospital) AS home_managed,
       count(*) FILTER (WHERE managed AND NOT in_hospital AND stable) AS stable,
       count(*) FILTER (WHERE NOT in_hospital) AS home,
       count(*) FILTER (WHERE NOT in_hospital AND rehab) AS rehab,
       count(*) FILTER (WHERE incident) AS incident,
       count(*) FILTER (WHERE minor) AS minor
FROM facts
GROUP BY GROUPING SETS ((province_code), (city_code), (county_code), (township_code));

-- @sqlite
CREATE TEMP TABLE bench_reference_facts AS
WITH status_at_end AS (
    SELECT patient_id, to_status FROM (
        SELECT s.patient_id, s.to_status,
               ROW_NUMBER() OVER (PARTITION BY s.patient_id ORDER BY s.changed_on DESC, s.id DESC) AS n
        FROM patients_statuschange s
        WHERE s.changed_on <= %(end)s
    ) WHERE n = 1
),
registered AS (
    SELECT p.id, p.province_code, p.city_code, p.county_code, p.township_code,
           p.diagnosis = %(schizophrenia)s AS schizophrenia,
           max(p.registered_on, %(window_start)s) AS clock_from,
           p.status_at_e = %(in_hospital)s AS in_hospital
    FROM (SELECT p.*, COALESCE(st.to_status, CASE
              WHEN p.status_changed_on IS NULL OR p.status_changed_on <= %(end)s THEN p.status
              ELSE 'managed' END) AS status_at_e
          FROM patients_patient p LEFT JOIN status_at_end st ON st.patient_id = p.id) p
    WHERE p.registered_on <= %(end)s AND p.status_at_e NOT IN ({off_register})
),
visits AS (
    SELECT f.patient_id, f.followup_date, f.method, f.adherence, f.classification,
           julianday(f.followup_date) - julianday(LAG(f.followup_date) OVER w) AS gap,
           LEAD(f.id) OVER w IS NULL AS is_last
    FROM followups_followup f
    WHERE f.outcome = 'visited' AND f.followup_date BETWEEN %(window_start)s AND %(end)s
    WINDOW w AS (PARTITION BY f.patient_id ORDER BY f.followup_date, f.id)
),
per_patient AS (
    SELECT v.patient_id, count(*) AS visits, min(v.followup_date) AS first_visit,
           max(v.followup_date) AS last_visit, COALESCE(max(v.gap), 0) AS max_gap,
           max(v.method IN ({face_to_face})) AS face_to_face,
           max(v.adherence) FILTER (WHERE v.is_last) AS last_adherence,
           max(v.classification) FILTER (WHERE v.is_last) AS last_classification
    FROM visits v
    GROUP BY v.patient_id
),
events AS (
    SELECT f.patient_id, max(f.trouble_count + f.disaster_count > 0) AS incident,
           max(f.minor_trouble_count > 0) AS minor
    FROM followups_followup f
    WHERE f.outcome = 'visited' AND f.followup_date BETWEEN %(start)s AND %(end)s
      AND (f.trouble_count > 0 OR f.disaster_count > 0 OR f.minor_trouble_count > 0)
    GROUP BY f.patient_id
)
SELECT r.province_code, r.city_code, r.county_code, r.township_code, r.schizophrenia, r.in_hospital,
       (v.patient_id IS NOT NULL OR r.in_hospital) AS managed,
       COALESCE(v.visits >= %(min_visits)s AND v.max_gap <= %(max_gap)s
                AND julianday(v.first_visit) - julianday(r.clock_from) <= %(max_gap)s
                AND julianday(%(end)s) - julianday(v.last_visit) <= %(max_gap)s, 0) AS standard,
       COALESCE(v.face_to_face, 0) AS face_to_face,
       (COALESCE(v.last_adherence IN ({medication}), 0) OR r.in_hospital) AS medication,
       COALESCE(v.last_adherence IN ({regular}), 0) AS regular,
       COALESCE(v.last_visit >= %(recent_from)s AND v.last_classification = %(stable)s, 0) AS stable,
       COALESCE(ps.community_rehab, 0) AS rehab,
       COALESCE(e.incident, 0) AS incident,
       COALESCE(e.minor, 0) AS minor
FROM registered r
LEFT JOIN per_patient v ON v.patient_id = r.id
LEFT JOIN events e ON e.patient_id = r.id
LEFT JOIN patients_personalsupplement ps ON ps.patient_id = r.id;
-- @sqlite-select
SELECT {level} AS region,
       count(*) AS registered,
       sum(managed) AS managed,
       sum(standard) AS standard,
       sum(managed AND face_to_face) AS face_to_face,
       sum(medication) AS medication,
       sum(regular) AS regular,
       sum(schizophrenia AND managed) AS schizophrenia_managed,
       sum(schizophrenia AND managed AND medication) AS schizophrenia_medication,
       sum(managed AND NOT in_hospital) AS home_managed,
       sum(managed AND NOT in_hospital AND stable) AS stable,
       sum(NOT in_hospital) AS home,
       sum(NOT in_hospital AND rehab) AS rehab,
       sum(incident) AS incident,
       sum(minor) AS minor
FROM bench_reference_facts
GROUP BY {level};
