import { afterEach, describe, expect, it } from 'vitest';
import { catalog } from '../templates/index.ts';
import { assignedData } from '../testing/fixtures.ts';
import { startReceiver, type Receiver } from '../testing/receiver.ts';
import type { SendRequest } from './types.ts';
import { createWecomRobotChannel } from './wecom-robot.ts';

const channel = createWecomRobotChannel({ timeoutMs: 1000 });
let robot: Receiver;
afterEach(async () => robot?.close());

const markdown = catalog('zh-CN', 'Asia/Shanghai').dispatchAssigned(assignedData()).markdown;
const send = (url: string, md = markdown): Promise<unknown> => {
  const req: SendRequest = { deliveryId: 'd', recipient: url, payload: { channel: 'wecom', url, markdown: md }, now: new Date() };
  return channel.send(req);
};

describe('WeCom group robot channel', () => {
  it('posts a markdown message in the robot format', async () => {
    robot = await startReceiver(() => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' }));
    expect(await send(`${robot.url}?key=abc`)).toEqual({ kind: 'delivered', statusCode: 200 });
    const [got] = robot.received;
    expect(got?.path).toBe('/hook?key=abc');
    expect(got?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(got!.body)).toEqual({ msgtype: 'markdown', markdown: { content: markdown } });
    expect(markdown).toContain('**【抢修派单】后湖3号网格**');
  });

  it('treats a non-zero errcode as failure, retrying only the rate limit and busy answers', async () => {
    robot = await startReceiver(() => ({ status: 200, body: '{"errcode":45009,"errmsg":"api freq out of limit"}' }));
    expect(await send(robot.url)).toEqual({ kind: 'retry', statusCode: 200, error: 'errcode 45009: api freq out of limit', retryAfterMs: 60_000 });
    robot.respond(() => ({ status: 200, body: '{"errcode":-1,"errmsg":"system busy"}' }));
    expect(await send(robot.url)).toMatchObject({ kind: 'retry', error: 'errcode -1: system busy' });
    robot.respond(() => ({ status: 200, body: '{"errcode":93000,"errmsg":"invalid webhook url"}' }));
    expect(await send(robot.url)).toEqual({ kind: 'permanent', statusCode: 200, error: 'errcode 93000: invalid webhook url' });
    robot.respond(() => ({ status: 200, body: '<html>proxy</html>' }));
    expect(await send(robot.url)).toMatchObject({ kind: 'permanent' });
    robot.respond(() => ({ status: 502, body: '' }));
    expect(await send(robot.url)).toMatchObject({ kind: 'retry', statusCode: 502 });
  });

  it('keeps the content within the 4096-byte limit', async () => {
    robot = await startReceiver(() => ({ status: 200, body: '{"errcode":0}' }));
    await send(robot.url, '停电'.repeat(2000));
    const content = (JSON.parse(robot.received[0]!.body) as { markdown: { content: string } }).markdown.content;
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
  });
});
