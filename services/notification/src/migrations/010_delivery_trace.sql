-- The trace a delivery continues (docs/architecture.md#observability): the W3C traceparent of the
-- event that caused it, so the send is a span of the request's trace and a webhook carries it on.
ALTER TABLE notification.deliveries ADD COLUMN traceparent text;
