// Rehearsals running at once share the instance addresses (127.0.1.N): each must get a port of its
// own, though nginx binds it only seconds after the port is picked.
import { describe, expect, it } from 'vitest';
import { instancePort, portFree } from '../../lib/rehearsal/net';

const ADDRESSES = ['127.0.1.201', '127.0.1.202'];

describe('instancePort', () => {
  it('never gives a port another run holds, though nothing listens on it yet, and gives it again once released', async () => {
    const first = await instancePort(ADDRESSES);
    const second = await instancePort(ADDRESSES);
    try {
      expect(second.port).not.toBe(first.port);
      // Nothing is bound on the instance addresses: the hold is not in nginx's way.
      for (const address of ADDRESSES) expect(await portFree(address, first.port)).toBe(true);
    } finally {
      await second.release();
    }
    const preferred = first.port;
    await first.release();
    const again = await instancePort(ADDRESSES, preferred);
    await again.release();
    expect(again.port).toBe(preferred);
  });
});
