import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { createPool } from './index.ts';

let db: FreshDatabase;

beforeAll(async () => {
  db = await freshDatabase('db_pool');
});

afterAll(async () => {
  await db.drop();
});

describe('createPool', () => {
  it('survives the server ending a connection that is checked out between queries (as a restart does)', async () => {
    const pool = createPool(db.url, { max: 2 });
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
      // The server sends FATAL 57P01 to a client with no query running: without a listener on
      // the checked-out client that 'error' event would be thrown out of the socket's handler.
      await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended;
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      const again = await pool.query<{ one: number }>('SELECT 1 AS one');
      expect(again.rows[0]!.one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
