import { z } from 'zod';
import { envFlag, envJson, envLoader, envParsed, envTimeZone } from '@griddispatch/http';
import { parseDuration } from '@griddispatch/sla';
import { parseRate } from './delivery/rate-limiter.ts';
import { smsConfig, smsEnvShape } from './sms-config.ts';

// notification's environment, parsed once at boot (docs/architecture.md#configuration). DATABASE_URL,
// KAFKA_BROKERS, PORT and GD_TOPIC_PREFIX are read by main.ts / the embedded start, not here.

const rate = envParsed(parseRate);

const httpUrl = z.url({ protocol: /^https?$/ });

/** `90s`, `30m`, `24h`, `1d`, `3h45m` → milliseconds (the policies' and the other services' durations). */
const duration = envParsed(parseDuration);

const header = z.string().transform((text, ctx) => {
  const i = text.indexOf(':');
  if (i <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected "Header-Name: value"' });
    return z.NEVER;
  }
  return { name: text.slice(0, i).trim().toLowerCase(), value: text.slice(i + 1).trim() };
});

export const NotificationEnv = z
  .object({
    GD_TIME_ZONE: envTimeZone.default('Asia/Shanghai'),
    /** Language of SMS, WeCom and log messages. */
    GD_LOCALE: z.enum(['zh-CN', 'en']).default('zh-CN'),
    /** Attempts per delivery, the first included; then it is dead (dead letter). */
    NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
    /** Delay before the second attempt; doubles per attempt (with jitter), capped. */
    NOTIFY_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(5_000),
    NOTIFY_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(3_600_000),
    /** Per send; no answer within it counts as a transient failure. */
    NOTIFY_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    /** Token buckets: `N/s`, `N/m`, `N/h` or `unlimited`. WeCom's applies to each robot. */
    NOTIFY_RATE_WEBHOOK: rate.default(parseRate('200/s')),
    NOTIFY_RATE_WECOM: rate.default(parseRate('20/m')),
    NOTIFY_RATE_SMS: rate.default(parseRate('50/s')),
    NOTIFY_RATE_LOG: rate.default(null),
    /** Staff messages (SMS, WeCom, log) in flight at once per process: their own lane, never behind a webhook. */
    NOTIFY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
    /** Customer SMS (an outage's accounts) in flight at once per process: a lane of their own, sharing NOTIFY_RATE_SMS with staff SMS (staff first). */
    NOTIFY_CUSTOMER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
    /** Webhook sends in flight at once per process (a lane of their own). */
    NOTIFY_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
    /** Webhook sends in flight at once per subscription and process: a stalled receiver holds at most this many. */
    NOTIFY_WEBHOOK_PER_SUBSCRIPTION: z.coerce.number().int().min(1).max(100).default(2),
    /** A subscription whose deliveries failed without a success for this long is disabled. */
    NOTIFY_WEBHOOK_DISABLE_AFTER: duration.default(86_400_000),
    /** Subscriptions one API key may hold. */
    NOTIFY_MAX_SUBSCRIPTIONS_PER_KEY: z.coerce.number().int().min(1).max(10_000).default(20),
    /** `1`: webhooks may reach loopback, private, link-local… addresses. Development and tests only. */
    NOTIFY_WEBHOOK_ALLOW_PRIVATE: envFlag.default(false),
    /**
     * `1` (default): every consumed integrator-facing event is also published, masked as for a
     * webhook without pii:read, on `ext.<topic>` (Kafka consumers outside the company); `0`: not.
     */
    NOTIFY_EXTERNAL_FEED: envFlag.default(true),
    /** Key of the HMAC that replaces account numbers for subscribers without pii:read. Unset → a random key kept in the database. */
    NOTIFY_PII_HASH_KEY: z.string().min(16).optional(),
    /** Safety poll of the delivery worker when nothing wakes it. */
    NOTIFY_POLL_MS: z.coerce.number().int().min(10).default(1_000),
    /** SMS gateway (generic HTTP adapter, NOTIFY_SMS_VENDOR=gateway). Unset, and no vendor → SMS messages go to the log. */
    NOTIFY_SMS_URL: httpUrl.optional(),
    /** e.g. `Authorization: Bearer …`. */
    NOTIFY_SMS_AUTH_HEADER: header.optional(),
    /** The SMS vendor, its credentials and our message kinds' templates (sms-config.ts). */
    ...smsEnvShape,
    /** WeCom group robot per grid id (a district grid falls back to its area grid): `{"HH-G03":"https://qyapi…"}`. */
    NOTIFY_WECOM_ROBOTS: envJson(z.record(z.string(), httpUrl)).default({}),
    /** Robot for grids without their own. */
    NOTIFY_WECOM_DEFAULT_ROBOT: httpUrl.optional(),
    /** The operator desk (unroutable requests): its group robot and/or mobile numbers (comma-separated). */
    NOTIFY_OPERATOR_WECOM_URL: httpUrl.optional(),
    NOTIFY_OPERATOR_PHONES: z.string().optional(),
    /** How long the code in a staff SMS acknowledges its work order by reply (`1 <code>`), unless the work order leaves `assigned` first. */
    NOTIFY_ACK_CODE_TTL: duration.default(86_400_000),
    /** How long after a callback ask the caller's SMS reply is taken as its answer. */
    NOTIFY_CALLBACK_REPLY_WINDOW: duration.default(7 * 86_400_000),
    /** Prefix of the Kafka consumer groups, one per consumed topic (`notification.sla.breaches`, …). */
    NOTIFY_GROUP_ID: z.string().min(1).default('notification'),
  })
  .transform((e, ctx) => {
    // The SMS variables are checked together (a vendor needs its credentials): each miss is named like a field's.
    const sms = smsConfig(e);
    for (const i of sms.issues) ctx.addIssue({ code: 'custom', path: [i.path], message: i.message });
    return {
      timeZone: e.GD_TIME_ZONE,
      locale: e.GD_LOCALE,
      retry: { maxAttempts: e.NOTIFY_MAX_ATTEMPTS, baseDelayMs: e.NOTIFY_BACKOFF_BASE_MS, maxDelayMs: e.NOTIFY_BACKOFF_MAX_MS },
      httpTimeoutMs: e.NOTIFY_HTTP_TIMEOUT_MS,
      rates: { webhook: e.NOTIFY_RATE_WEBHOOK, wecom: e.NOTIFY_RATE_WECOM, sms: e.NOTIFY_RATE_SMS, log: e.NOTIFY_RATE_LOG },
      concurrency: e.NOTIFY_CONCURRENCY,
      customerConcurrency: e.NOTIFY_CUSTOMER_CONCURRENCY,
      webhook: {
        concurrency: e.NOTIFY_WEBHOOK_CONCURRENCY,
        perSubscription: e.NOTIFY_WEBHOOK_PER_SUBSCRIPTION,
        disableAfterMs: e.NOTIFY_WEBHOOK_DISABLE_AFTER,
        maxPerKey: e.NOTIFY_MAX_SUBSCRIPTIONS_PER_KEY,
        allowPrivate: e.NOTIFY_WEBHOOK_ALLOW_PRIVATE,
      },
      piiHashKey: e.NOTIFY_PII_HASH_KEY ?? null,
      externalFeed: e.NOTIFY_EXTERNAL_FEED,
      pollMs: e.NOTIFY_POLL_MS,
      sms: sms.config,
      smsTemplates: e.NOTIFY_SMS_TEMPLATES,
      wecomRobots: e.NOTIFY_WECOM_ROBOTS,
      wecomDefaultRobot: e.NOTIFY_WECOM_DEFAULT_ROBOT ?? null,
      operatorDesk: {
        wecomUrl: e.NOTIFY_OPERATOR_WECOM_URL ?? null,
        phones: (e.NOTIFY_OPERATOR_PHONES ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      },
      groupId: e.NOTIFY_GROUP_ID,
      replies: { ackCodeTtlMs: e.NOTIFY_ACK_CODE_TTL, callbackWindowMs: e.NOTIFY_CALLBACK_REPLY_WINDOW },
    };
  });

/** The environment as the service reads it: `loadConfig`'s result. */
export type NotificationConfig = z.output<typeof NotificationEnv>;

export const loadConfig = envLoader(NotificationEnv, 'notification');
