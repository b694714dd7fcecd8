import type { Logger } from '@griddispatch/observability';
import type { Channel, SendOutcome, SendRequest } from './types.ts';

// The log channel: the message as one log line. The operator desk when no robot or phone is
// configured, and — standing in as the `sms` channel — where text messages go when no SMS
// vendor is configured (the embedded start on a developer's machine). Phone numbers in the
// text are masked by the logger. A log line reaches nobody's phone, so the delivery becomes
// `logged`, never `delivered`.

export function createLogChannel(logger: Logger, as: 'log' | 'sms' = 'log'): Channel {
  return {
    name: as,
    send(request: SendRequest): Promise<SendOutcome> {
      const { payload } = request;
      if (payload.channel !== as || (payload.channel !== 'log' && payload.channel !== 'sms')) {
        throw new Error(`${as} log channel got a ${payload.channel} payload`);
      }
      const note = as === 'sms' ? 'SMS not sent (no SMS vendor configured: NOTIFY_SMS_VENDOR / NOTIFY_SMS_URL) ' : '';
      logger.info({ channel: as, recipient: request.recipient, deliveryId: request.deliveryId }, `${note}${payload.text}`);
      return Promise.resolve({ kind: 'logged', statusCode: null });
    },
  };
}
