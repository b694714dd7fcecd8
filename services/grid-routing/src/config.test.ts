import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '@griddispatch/sla';
import { loadConfig, loadPolicy } from './config.ts';

describe('grid-routing configuration', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      timeZone: 'Asia/Shanghai',
      slaPolicyPath: undefined,
      nearestWithinMeters: 500,
      incidentWindowMs: 15 * 60_000,
      incidentUrgentCalls: 5,
      incidentCriticalCalls: 20,
      incidentCountsIntervalMs: 5_000,
      fallbackDesk: 'station-desk',
      feederDistricts: 3,
      stormFactor: 1.5,
      meterQuorum: 3,
      meterQuorumWindowMs: 2 * 60_000,
      meterFutureToleranceMs: 5 * 60_000,
      plannedNoticeMs: 7 * 24 * 3_600_000,
      temporaryNoticeMs: 24 * 3_600_000,
    });
  });

  it('reads durations, numbers and zones from the environment', () => {
    const c = loadConfig({
      GD_INCIDENT_WINDOW: '20m',
      GD_NEAREST_METERS: '250',
      GD_TIME_ZONE: 'Asia/Urumqi',
      GD_INCIDENT_URGENT_CALLS: '3',
      GD_SLA_POLICY: '/etc/gd/policy.json',
    });
    expect(c).toMatchObject({
      incidentWindowMs: 20 * 60_000,
      nearestWithinMeters: 250,
      timeZone: 'Asia/Urumqi',
      incidentUrgentCalls: 3,
      slaPolicyPath: '/etc/gd/policy.json',
    });
  });

  it('names every bad variable', () => {
    expect(() => loadConfig({ GD_INCIDENT_WINDOW: '15 minutes', GD_TIME_ZONE: 'Mars/Olympus', GD_NEAREST_METERS: '-1' })).toThrow(
      /GD_INCIDENT_WINDOW[\s\S]*GD_TIME_ZONE|GD_TIME_ZONE[\s\S]*GD_INCIDENT_WINDOW/,
    );
    expect(() => loadConfig({ GD_NEAREST_METERS: '-1' })).toThrow(/GD_NEAREST_METERS/);
  });

  it('reads the outage settings and refuses a feeder of one 台区 or a storm that shortens ETRs', () => {
    expect(loadConfig({ GD_FEEDER_DISTRICTS: '4', GD_STORM_FACTOR: '2.5' })).toMatchObject({ feederDistricts: 4, stormFactor: 2.5 });
    expect(() => loadConfig({ GD_FEEDER_DISTRICTS: '1' })).toThrow(/GD_FEEDER_DISTRICTS/);
    expect(() => loadConfig({ GD_STORM_FACTOR: '0.5' })).toThrow(/GD_STORM_FACTOR/);
  });
});

describe('GD_SLA_POLICY', () => {
  it('loads the policy file, or the built-in default when unset', async () => {
    expect(await loadPolicy(undefined)).toBe(DEFAULT_POLICY);
    const dir = await mkdtemp(join(tmpdir(), 'gd-policy-'));
    try {
      const file = join(dir, 'policy.json');
      await writeFile(file, JSON.stringify({ rules: [{ name: 'fast', match: {}, windows: { ack: '5s', resolve: '30s' } }] }));
      expect((await loadPolicy(file)).rules.map((r) => r.name)).toEqual(['fast']);
      await writeFile(file, JSON.stringify({ rules: [{ name: 'broken', match: {}, windows: { ack: 'soon' } }] }));
      await expect(loadPolicy(file)).rejects.toThrow(/policy\.json[\s\S]*broken/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
