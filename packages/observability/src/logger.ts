import { pino, type Logger, type LoggerOptions } from 'pino';
import PinoPretty from 'pino-pretty';

export type { Logger };

// Personal data never reaches the logs in clear (docs/architecture.md#reliability-rules): names keep their first character,
// phone numbers their first 3 and last 4 digits (the usual masking in Chinese customer service).
export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length === 0) return name;
  return chars[0] + '*'.repeat(Math.max(1, chars.length - 1));
}

export function maskPhone(phone: string): string {
  let digits = phone.replace(/\D/g, '');
  if (digits.length === 13 && digits.startsWith('86')) digits = digits.slice(2);
  if (digits.length < 7) return '*'.repeat(digits.length);
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
}

const NAME_KEYS = new Set(['name', 'customerName', 'contactName', 'staffName']);
const PHONE_KEYS = new Set(['phone', 'mobile', 'phoneNumber', 'tel', 'to']);
const PHONE_IN_TEXT = /(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)/g;

/** Deep copy of `value` with names and phone numbers masked, wherever they appear. */
export function maskPersonalData(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || value === undefined) return value;
  if (typeof value === 'string') return value.replace(PHONE_IN_TEXT, (m) => maskPhone(m));
  if (Array.isArray(value)) return value.map((v) => maskPersonalData(v, depth + 1));
  if (typeof value !== 'object' || value instanceof Error || value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' && NAME_KEYS.has(key)) out[key] = maskName(v);
    else if (typeof v === 'string' && PHONE_KEYS.has(key)) out[key] = maskPhone(v);
    else out[key] = maskPersonalData(v, depth + 1);
  }
  return out;
}

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
  /**
   * Human-readable lines (pino-pretty) instead of JSON. Default: when stdout is a terminal and no
   * destination is given, so `pnpm start` in a terminal is readable and anything piped or
   * collected gets one JSON object per line.
   */
  pretty?: boolean;
}

const CHINDINGS = pino.symbols.chindingsSym;
const SERVICE_KEY = '"service":';

/**
 * pino appends a child's bindings to its parent's, so `child({ service })` under a logger that
 * already has one (the embedded start's `griddispatch` logger, handed to each service) would
 * write the key twice, and log pipelines disagree on which one counts. Keep one, the child's.
 * The check is one string search per child; only a repeated key costs a parse.
 */
function keepOneService(child: Logger): void {
  const holder = child as unknown as Record<symbol, unknown>;
  const chindings = holder[CHINDINGS];
  if (typeof chindings !== 'string' || chindings.indexOf(SERVICE_KEY) === chindings.lastIndexOf(SERVICE_KEY)) return;
  // JSON.parse keeps a repeated key at its first position with its last value.
  const merged = JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>;
  holder[CHINDINGS] = `,${JSON.stringify(merged).slice(1, -1)}`;
}

function prettyStdout(): pino.DestinationStream {
  return PinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', sync: true });
}

/**
 * One JSON line per event (pretty lines on a terminal). Callers bind `eventId` and `workOrderId`
 * with `logger.child(...)` so every line about one event carries both (STYLE rule 7).
 */
export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    name: config.service,
    level: config.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { service: config.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    onChild: keepOneService,
    formatters: {
      log: (object) => maskPersonalData(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? a.replace(PHONE_IN_TEXT, (m) => maskPhone(m)) : a));
        return method.apply(this, masked as Parameters<typeof method>);
      },
    },
  };
  if (config.destination) return pino(options, config.destination);
  const pretty = config.pretty ?? process.stdout.isTTY === true;
  return pretty ? pino(options, prettyStdout()) : pino(options);
}

/** Child logger bound to one event, as every consumer should log. */
export function eventLogger(logger: Logger, event: { id: string; subject?: string; type?: string }): Logger {
  return logger.child({ eventId: event.id, workOrderId: event.subject, eventType: event.type });
}
