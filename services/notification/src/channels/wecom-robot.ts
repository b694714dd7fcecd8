import { classifyHttpStatus, networkFailure } from '../delivery/retry-policy.ts';
import { truncateUtf8 } from '../templates/index.ts';
import { errorDetail, header, post } from './http.ts';
import type { Channel, SendOutcome, SendRequest } from './types.ts';

// 企业微信群机器人: POST {"msgtype":"markdown","markdown":{"content":…}} to the robot's webhook URL
// (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…). The robot answers HTTP 200 with
// {"errcode":0,"errmsg":"ok"}; any other errcode is a failure. 45009 is its rate limit (20
// messages a minute per robot) and -1 "system busy": both pass, so they are retried.

/** Markdown content is limited to 4096 bytes. */
export const WECOM_MARKDOWN_MAX_BYTES = 4096;
const RATE_LIMITED = 45009;
const SYSTEM_BUSY = -1;
/** The robot's limit is counted per minute: retrying sooner only burns attempts. */
const RATE_LIMIT_WAIT_MS = 60_000;

export interface WecomRobotOptions {
  timeoutMs: number;
}

export function wecomMarkdownBody(markdown: string): string {
  return JSON.stringify({ msgtype: 'markdown', markdown: { content: truncateUtf8(markdown, WECOM_MARKDOWN_MAX_BYTES) } });
}

export function createWecomRobotChannel(options: WecomRobotOptions): Channel {
  return {
    name: 'wecom',
    // Each group robot has its own limit (20 a minute): NOTIFY_RATE_WECOM applies per robot URL (the row's recipient).
    rateBucket: (robotUrl) => robotUrl,
    async send(request: SendRequest): Promise<SendOutcome> {
      const { payload } = request;
      if (payload.channel !== 'wecom') throw new Error(`wecom channel got a ${payload.channel} payload`);
      let answer;
      try {
        answer = await post(payload.url, wecomMarkdownBody(payload.markdown), { 'content-type': 'application/json' }, options.timeoutMs);
      } catch (err) {
        return networkFailure(err);
      }
      const http = classifyHttpStatus(answer.status, header(answer, 'retry-after'), request.now);
      if (http.kind !== 'delivered') return http.kind === 'gone' ? http : { ...http, error: errorDetail(answer) };
      let result: { errcode?: unknown; errmsg?: unknown };
      try {
        result = JSON.parse(answer.body) as typeof result;
      } catch {
        return { kind: 'permanent', statusCode: answer.status, error: `robot answered without JSON: ${answer.body.slice(0, 100)}` };
      }
      const errcode = Number(result.errcode);
      if (errcode === 0) return { kind: 'delivered', statusCode: answer.status };
      const error = `errcode ${String(result.errcode)}: ${String(result.errmsg ?? '')}`;
      if (errcode === RATE_LIMITED) return { kind: 'retry', statusCode: answer.status, error, retryAfterMs: RATE_LIMIT_WAIT_MS };
      if (errcode === SYSTEM_BUSY) return { kind: 'retry', statusCode: answer.status, error };
      return { kind: 'permanent', statusCode: answer.status, error };
    },
  };
}
