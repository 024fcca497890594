-- q_kvm_stat.sql — the top events of one run, shaped like `perf kvm stat report`, priced under
-- one cost model: which events happened most, and which cost the most modeled time.
-- Parameters: the workload, mode and model in the WHERE clause.
SELECT event,
       samples,
       printf('%.2f', samples_pct) AS "samples%",
       printf('%.2f', time_pct)    AS "time%",
       printf('%.0f', avg_cycles)  AS avg_cycles
FROM kvm_stat
WHERE model = 'p4-prescott'
  AND run_id = (SELECT run_id FROM latest_run WHERE workload = 'pgfault' AND mode = 'native')
ORDER BY samples DESC
LIMIT 8;
