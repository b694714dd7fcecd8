import type { Logger } from '@griddispatch/observability';
import type { Channel, SendOutcome, SendRequest } from './types.ts';

// The log channel: the message as one log line. The fallback desk when no robot or gateway is
// configured, and what a developer sees in the embedded start. Phone numbers in the text are
// masked by the logger.

export function createLogChannel(logger: Logger): Channel {
  return {
    name: 'log',
    send(request: SendRequest): Promise<SendOutcome> {
      const { payload } = request;
      if (payload.channel !== 'log') throw new Error(`log channel got a ${payload.channel} payload`);
      logger.info({ channel: 'log', recipient: request.recipient, deliveryId: request.deliveryId }, payload.text);
      return Promise.resolve({ kind: 'delivered', statusCode: null });
    },
  };
}
