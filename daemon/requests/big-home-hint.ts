// Home Assistant's conversation agents put every entity exposed to Assist into the system prompt, one
// "- names: ..." entry each (its "Static Context"). Above roughly 120-150 entities that alone is more than
// BitNet's 4,096-token context, and no setting of bitnetd can help: the fix is in Home Assistant. This
// names it, with how many entities would fit, for the prompt_too_long error.
import type { GenerateRequest } from '../protocol.js';

/** The entity entries of Home Assistant's static context in a request's system prompt (0: none). */
export function exposedEntities(req: Pick<GenerateRequest, 'system' | 'messages'>): number {
  const system = [req.system ?? '', ...(req.messages ?? []).filter((m) => m.role === 'system').map((m) => m.content)].join('\n');
  return system.match(/^- names: /gm)?.length ?? 0;
}

/** What to do about a prompt of promptTokens that does not fit contextSize, when it is Home Assistant's
 * entity list; undefined for any other prompt. */
export function bigHomeHint(req: Pick<GenerateRequest, 'system' | 'messages'>, promptTokens: number, contextSize: number): string | undefined {
  const entities = exposedEntities(req);
  if (entities === 0) return undefined;
  // As if the whole prompt grew with the entities (it mostly does), leaving a quarter for the answer.
  const fit = Math.floor((entities * contextSize * 0.75) / promptTokens);
  return (
    `Home Assistant lists every entity exposed to Assist in its prompt (${entities} here, about ` +
    `${Math.round(promptTokens / entities)} tokens each): expose about ${fit} or fewer (Settings > Voice assistants > Expose), ` +
    'or give this agent no control of Home Assistant for questions that need no devices'
  );
}
