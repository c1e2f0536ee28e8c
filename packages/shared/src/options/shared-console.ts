import type { TargetProfile } from '../profile.js';

/*
 * --chats-per-console N > 1 (chat-load): sessions share one agent console, so each one must open its
 * own chat in it (agent.chatItem: a console that opens chats by itself would switch chats under
 * another session's reply) and know when its chat is the open one (its message shows in
 * agent.messageList) before it replies.
 */

/** The keys of the profile's agent section that sessions sharing a console need. */
const SHARED_CONSOLE_KEYS = ['chatItem', 'messageList'] as const;

/** Pure: the keys of SHARED_CONSOLE_KEYS the profile's agent section lacks, as dotted profile paths. */
export function sharedConsoleMissing(agent: Pick<TargetProfile['agent'], (typeof SHARED_CONSOLE_KEYS)[number]>): string[] {
  return SHARED_CONSOLE_KEYS.filter((k) => agent[k] === undefined).map((k) => `agent.${k}`);
}

/** Pure: why a run cannot share consoles as asked, or null. */
export function sharedConsoleProblem(chatsPerConsole: number, profile: Pick<TargetProfile, 'name' | 'agent'>): string | null {
  if (chatsPerConsole <= 1) return null;
  const missing = sharedConsoleMissing(profile.agent);
  if (missing.length === 0) return null;
  return (
    `--chats-per-console ${chatsPerConsole}: the target profile ${profile.name} has no ${missing.join(' or ')}; sessions sharing a console ` +
    `open their chat by its item (agent.chatItem) and reply once its message shows in the open chat (agent.messageList). ` +
    `Add them to the profile, or use --chats-per-console 1 (a console per session)`
  );
}
