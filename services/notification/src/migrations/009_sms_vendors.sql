-- SMS vendors (Alibaba Cloud, Tencent Cloud). Two new words in the delivery log:
-- * status / outcome `logged`: with no SMS vendor configured the message is written to the log.
--   That is not a delivery, and the log must not say it was.
-- * outcome `disabled`: the vendor refused the channel's configuration (account key, signature,
--   template). The delivery stays pending and is retried; the channel alarm is raised.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (status IN ('pending', 'delivered', 'logged', 'failed', 'dead'));
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_outcome_check;
ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_outcome_check
  CHECK (outcome IN ('delivered', 'logged', 'retry', 'disabled', 'permanent', 'gone'));

-- /metrics counts the deliveries still owed or lost (pending, failed, dead): logged rows are as
-- finished as delivered ones and, on a machine without SMS, as many; they stay out of this index.
DROP INDEX deliveries_undelivered;
CREATE INDEX deliveries_undelivered ON deliveries (status, channel) WHERE status IN ('pending', 'failed', 'dead');
