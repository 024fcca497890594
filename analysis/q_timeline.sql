-- q_timeline.sql — the time series of one run: events per instruction-count bucket (the width is
-- `bucket=` in the run's config), one line per bucket, the classes side by side. Shows where boot
-- ends and the measured loop begins.
SELECT b.bucket,
       group_concat(b.class_name || '=' || b.count, ' ') AS events
FROM bucket_named b
WHERE b.run_id = (SELECT run_id FROM latest_run WHERE workload = 'forkproc' AND mode = 'native')
GROUP BY b.bucket
ORDER BY b.bucket
LIMIT 12;
