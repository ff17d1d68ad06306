/**
 * Who each slot's document belongs to (its record's `user_id` and `agent_id`), interned to small numbers,
 * so recall narrowed to a user or an agent tests two array entries per candidate instead of reading the
 * record: on 1M memories that read missed the cache on every matching posting (README, Scale).
 * Code 0 = no owner (the field is null or absent); names get codes from 1 on and keep them for the life of
 * the index (there are few of them).
 */
export interface OwnerFilter {
  userId: string | null;
  agentId: string | null;
}

export class SlotOwners {
  private users = new Int32Array(64);
  private agents = new Int32Array(64);
  private readonly userCodes = new Map<string, number>();
  private readonly agentCodes = new Map<string, number>();

  set(slot: number, record: Record<string, unknown>): void {
    if (slot >= this.users.length) {
      const length = Math.max(slot + 1, this.users.length * 2);
      const users = new Int32Array(length);
      users.set(this.users);
      this.users = users;
      const agents = new Int32Array(length);
      agents.set(this.agents);
      this.agents = agents;
    }
    this.users[slot] = intern(this.userCodes, record.user_id);
    this.agents[slot] = intern(this.agentCodes, record.agent_id);
  }

  clear(slot: number): void {
    if (slot >= this.users.length) return;
    this.users[slot] = 0;
    this.agents[slot] = 0;
  }

  /**
   * A test of slots for `filter`: undefined when it narrows nothing, null when no document can pass (it
   * names a user or agent no document of this index has).
   */
  matcher(filter: OwnerFilter): ((slot: number) => boolean) | null | undefined {
    if (filter.userId === null && filter.agentId === null) return undefined;
    const user = filter.userId === null ? 0 : (this.userCodes.get(filter.userId) ?? -1);
    const agent = filter.agentId === null ? 0 : (this.agentCodes.get(filter.agentId) ?? -1);
    if (user < 0 || agent < 0) return null;
    const users = this.users;
    const agents = this.agents;
    return (slot) => (user === 0 || users[slot] === user) && (agent === 0 || agents[slot] === agent);
  }

  bytes(): number {
    return this.users.byteLength + this.agents.byteLength;
  }
}

function intern(codes: Map<string, number>, name: unknown): number {
  if (typeof name !== 'string') return 0;
  let code = codes.get(name);
  if (code === undefined) {
    code = codes.size + 1;
    codes.set(name, code);
  }
  return code;
}
