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
      return createSmsGatewayChannel({ url: sms.url, ...(sms.authHeader ? { authHeader: sms.authHeader } : {}), templates, timeoutMs });
    case 'alibaba':
      return createAlibabaSmsChannel({ ...sms, templates, timeoutMs });
    case 'tencent':
      return createTencentSmsChannel({ ...sms, templates, timeoutMs });
    case undefined:
      return createLogChannel(logger, 'sms');
  }
}
