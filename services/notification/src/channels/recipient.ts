import { maskPhone } from '@griddispatch/observability';
import type { ChannelName } from './types.ts';

/**
 * A recipient as it may be shown (API, logs): phone numbers masked, a robot's key cut to its
 * first characters (the key is the robot's only credential).
 */
export function displayRecipient(channel: ChannelName, recipient: string): string {
  if (channel === 'sms') return maskPhone(recipient);
  if (channel === 'wecom') return recipient.replace(/([?&]key=)([^&]{0,4})[^&]*/i, '$1$2****');
  return recipient;
}
