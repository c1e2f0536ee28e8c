import { describe, expect, it } from 'vitest';
import { sharedConsoleMissing, sharedConsoleProblem } from './shared-console.js';

describe('sharedConsoleProblem', () => {
  const agent = (chatItem?: string, messageList?: string) => ({ chatItem, messageList });
  it.each([
    { name: 'one chat per console: nothing needed', n: 1, a: agent(), want: null },
    { name: 'both keys: shared', n: 4, a: agent('.chat-item', '#chat-messages'), want: null },
    { name: 'no messageList', n: 4, a: agent('.chat-item'), want: 'has no agent.messageList' },
    { name: 'no chatItem (a console that opens chats itself)', n: 2, a: agent(undefined, '#m'), want: 'has no agent.chatItem' },
    { name: 'neither', n: 2, a: agent(), want: 'has no agent.chatItem or agent.messageList' },
  ])('$name', ({ n, a, want }) => {
    const p = sharedConsoleProblem(n, { name: 'acme', agent: a as never });
    if (want === null) expect(p).toBeNull();
    else {
      expect(p).toContain(`--chats-per-console ${n}: the target profile acme ${want};`);
      expect(p).toContain('or use --chats-per-console 1');
    }
  });

  it('lists the missing keys in profile order', () => {
    expect(sharedConsoleMissing({ chatItem: undefined, messageList: undefined })).toEqual(['agent.chatItem', 'agent.messageList']);
  });
});
