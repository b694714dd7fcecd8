-- /metrics counts deliveries that are not delivered (pending, failed, dead) by status and channel
-- at every scrape: this index holds only those rows, so the count never reads the delivered bulk.
CREATE INDEX deliveries_undelivered ON deliveries (status, channel) WHERE status <> 'delivered';
