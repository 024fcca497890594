-- q_overhead.sql — "does the hardware catch up?": each mode's modeled time per operation
-- relative to native, one column per CPU-generation model (oldest first), per workload.
SELECT o.workload,
       o.mode,
       printf('%.2f', max(CASE WHEN o.model = 'p4-prescott' THEN o.relative_to_native END)) AS p4,
       printf('%.2f', max(CASE WHEN o.model = 'core2-merom' THEN o.relative_to_native END)) AS core2,
       printf('%.2f', max(CASE WHEN o.model = 'nehalem'     THEN o.relative_to_native END)) AS nehalem,
       printf('%.2f', max(CASE WHEN o.model = 'sandybridge' THEN o.relative_to_native END)) AS snb,
       printf('%.2f', max(CASE WHEN o.model = 'recent-core' THEN o.relative_to_native END)) AS recent
FROM op_cost o
GROUP BY o.workload, o.mode
ORDER BY o.workload,
         CASE o.mode WHEN 'native' THEN 0 WHEN 'trap' THEN 1 WHEN 'trap-ept' THEN 2
                     WHEN 'trap-classic' THEN 3 WHEN 'bt' THEN 4 WHEN 'pv' THEN 5 ELSE 6 END;
