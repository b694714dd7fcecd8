import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, eventLogger, maskName, maskPhone } from './logger.ts';

function capture(service = 'test') {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      raw.push(String(chunk));
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, raw, logger: createLogger({ service, destination }) };
}

/** Top-level keys of one JSON line, repeats included (JSON.parse would keep only the last). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(JSON.parse(line.slice(i, j + 1)) as string);
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

describe('logger', () => {
  it('masks names and phone numbers in fields and in messages', () => {
    const { lines, logger } = capture();
    logger.info({ customer: { name: '张三丰', phone: '13812345678' } }, 'called back 13812345678');
    expect(lines[0]).toMatchObject({ customer: { name: '张**', phone: '138****5678' }, msg: 'called back 138****5678' });
    expect(JSON.stringify(lines[0])).not.toContain('13812345678');
    expect(JSON.stringify(lines[0])).not.toContain('三丰');
  });

  it('puts the event id and work-order id on every line of an event logger', () => {
    const { lines, logger } = capture();
    const log = eventLogger(logger, { id: 'evt-1', subject: 'wo-9', type: 't' });
    log.info('one');
    log.warn({ attempt: 2 }, 'two');
    for (const line of lines) expect(line).toMatchObject({ eventId: 'evt-1', workOrderId: 'wo-9', service: 'test' });
  });

  it('writes the service key once, the innermost one, as the embedded start nests them', () => {
    // apps/griddispatch start: one `griddispatch` logger, each service binds its own name.
    const { raw, lines, logger } = capture('griddispatch');
    const slaTimer = logger.child({ service: 'sla-timer' });
    slaTimer.info('timer fired');
    eventLogger(slaTimer, { id: 'evt-1', subject: 'wo-1' }).warn('breach');
    slaTimer.child({ component: 'scheduler' }).child({ service: 'sla-timer' }).info('tick');
    logger.info('up');
    for (const line of raw) expect(topLevelKeys(line).filter((k) => k === 'service')).toHaveLength(1);
    expect(lines.map((l) => l.service)).toEqual(['sla-timer', 'sla-timer', 'sla-timer', 'griddispatch']);
    expect(lines[1]).toMatchObject({ eventId: 'evt-1', workOrderId: 'wo-1' });
    expect(lines[2]).toMatchObject({ component: 'scheduler' });
  });

  it('masks short and international numbers sensibly', () => {
    expect(maskPhone('+86 138-1234-5678')).toBe('138****5678');
    expect(maskPhone('12345')).toBe('*****');
    expect(maskName('李')).toBe('李*');
  });
});

describe('log format on stdout', () => {
  const script = `import { createLogger } from ${JSON.stringify(new URL('./logger.ts', import.meta.url).pathname)};
createLogger({ service: 'griddispatch' }).child({ service: 'intake' }).info({ phone: '13812345678' }, 'request accepted');`;
  const args = ['--import', 'tsx', '--input-type=module', '-e', script];

  it('is one JSON object per line when stdout is a pipe', () => {
    const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ service: 'intake', msg: 'request accepted', phone: '138****5678' });
  });

  // util-linux `script` gives the child a terminal, as `pnpm start` in a shell has.
  it.skipIf(!existsSync('/usr/bin/script'))('is pino-pretty when stdout is a terminal', () => {
    const command = [process.execPath, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const { stdout } = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
    const text = stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), ''); // colours off
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: request accepted/m);
    expect(text).toContain('service: "intake"');
    expect(text).toContain('138****5678');
    expect(text).not.toContain('{"level"');
  });
});
