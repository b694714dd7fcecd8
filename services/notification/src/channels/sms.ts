import type { Logger } from '@griddispatch/observability';
import type { SmsConfig } from '../sms-config.ts';
import { createLogChannel } from './log.ts';
import { createAlibabaSmsChannel } from './sms-alibaba.ts';
import { createSmsGatewayChannel } from './sms-gateway.ts';
import type { SmsTemplates } from './sms-templates.ts';
import { createTencentSmsChannel } from './sms-tencent.ts';
import type { Channel } from './types.ts';

/** The `sms` channel for the configured vendor; none configured: the log stands in (`logged`). */
export function createSmsChannel(sms: SmsConfig | null, templates: SmsTemplates, timeoutMs: number, logger: Logger): Channel {
  switch (sms?.vendor) {
    case 'gateway':
      return withKinds(createSmsGatewayChannel({ url: sms.url, ...(sms.authHeader ? { authHeader: sms.authHeader } : {}), templates, timeoutMs }));
    case 'alibaba':
      return withKinds(createAlibabaSmsChannel({ ...sms, templates, timeoutMs }));
    case 'tencent':
      return withKinds(createTencentSmsChannel({ ...sms, templates, timeoutMs }));
    case undefined:
      return createLogChannel(logger, 'sms');
  }
}

/**
 * Every SMS vendor approves templates one by one: a refused template holds its message kind only
 * (a wrong warning template must not hold the crews' dispatch SMS).
 */
function withKinds(channel: Channel): Channel {
  return { ...channel, templateOf: (payload) => (payload.channel === 'sms' ? payload.templateId : null) };
}
