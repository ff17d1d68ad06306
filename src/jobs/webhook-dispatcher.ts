import { setTimeout as sleep } from 'node:timers/promises';
import type { EngramPrincipal } from '../auth/principal.js';
import { randomHex } from '../ids.js';
import type { Logger } from '../log.js';
import type { EventLog } from '../memory/event-log.js';
import { compareStreamIds } from '../memory/events.js';
import { deliveryIdFor, queuedMember, webhookEnvelope } from '../memory/webhooks/webhook-delivery.js';
import type { StoredWebhook, WebhookOwner } from '../memory/webhooks/webhook-model.js';
import type { DeliveryJob, WebhookQueue } from '../memory/webhooks/webhook-queue.js';
import type { WebhookStore } from '../memory/webhooks/webhook-store.js';
import type { PubSub } from '../redis/pubsub.js';
import { tenantName, type Tenant } from '../tenant.js';
import { engramEventPermitted } from '../memory/engrams/event-access.js';
import { storedView, type EventView } from '../memory/event-view.js';
import { Filter } from '../memory/event-filter.js';

/**
 * The outbox reader. Each tenant's event stream is the outbox of its webhooks: one instance at a time (the
 * holder of the tenant's lease in Redis) reads it from the stored cursor, enqueues one delivery job per
 * matching webhook, and only then advances the cursor (advanceWebhookCursor-3.lua, which also queues the
 * first attempts in event order). A crash between a write and its enqueue therefore loses nothing: the
 * next holder starts from the cursor, and jobs enqueued twice share an id and exist once.
 *
 * Matching is what an event socket of the webhook's owner would receive: the webhook's types and
 * namespace filter (the WebSocket `Filter`) and, on the engram face, the owner's reading rights
 * (`engramEventPermitted`, the sockets' own check). The dispatcher wakes on the tenant's event channel and
 * also polls, so a lost notification only delays.
 */
export interface DispatcherSettings {
  pollMs: number;
  leaseMs: number;
  pageSize: number;
}

export interface DispatcherDeps {
  store: WebhookStore;
  events: EventLog;
  queue: WebhookQueue;
  pubsub: PubSub;
  log: Logger;
  /** The reading rights of an engram webhook's owner, or undefined when it may read nothing any more. */
  ownerPrincipal: (org: string, owner: WebhookOwner) => Promise<EngramPrincipal | undefined>;
}

interface Matcher {
  webhook: StoredWebhook;
  filter: Filter;
  permits: (event: EventView) => boolean;
}

/** Pages read per tenant per round before the next tenant gets its turn. */
const PAGES_PER_ROUND = 10;

export class WebhookDispatcher {
  private readonly owner = `disp_${randomHex(8)}`;
  private readonly watched = new Set<Tenant>();
  private readonly wake = (): void => this.poke();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly settings: DispatcherSettings,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Runs a round now (or right after the one running). */
  poke(): void {
    if (this.closed) return;
    if (this.round) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.round = this.runRound().finally(() => {
        this.round = undefined;
        const next = this.again ? 0 : this.settings.pollMs;
        this.again = false;
        this.schedule(next);
      });
    }, ms);
    this.timer.unref();
  }

  private async runRound(): Promise<void> {
    try {
      const tenants = await this.deps.store.tenants();
      for (const tenant of tenants) {
        if (this.closed) return;
        await this.watch(tenant);
        await this.dispatch(tenant).catch((err: unknown) =>
          this.deps.log.warn({ err, tenant }, 'webhook dispatch failed; retrying from the cursor'),
        );
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'webhook dispatcher could not list tenants');
    }
  }

  private async watch(tenant: Tenant): Promise<void> {
    if (this.watched.has(tenant)) return;
    this.watched.add(tenant);
    await this.deps.pubsub.ssubscribe(this.deps.events.channel(tenant), this.wake).catch(() => {
      this.watched.delete(tenant);
    });
  }

  /** One tenant: take (or renew) the lease, then enqueue every page after the cursor. */
  private async dispatch(tenant: Tenant): Promise<void> {
    const { store } = this.deps;
    if (!(await store.takeLease(tenant, this.owner, this.settings.leaseMs))) return;
    const active = (await store.list(tenant)).filter((w) => w.health.active);
    if (active.length === 0) return;
    let cursor =
      (await store.cursor(tenant)) ??
      active.map((w) => w.config.from_event).sort(compareStreamIds)[0] ??
      '0-0';
    for (let page = 0; page < PAGES_PER_ROUND && !this.closed; page++) {
      const read = await this.deps.events.readNew(tenant, cursor, this.settings.pageSize);
      if (!read || read.events.length === 0) return;
      // The webhooks are listed after the page is read: one registered before an event of the page was
      // written is then in the list, and one registered later starts after that event (its from_event).
      // Listed before the read, a webhook registered in between missed the page's events for good (the
      // cursor moves past them; CI caught it on the cluster).
      const matchers = await this.matchers(
        tenant,
        (await store.list(tenant)).filter((w) => w.health.active),
      );
      const jobs: DeliveryJob[] = [];
      const queued: string[] = [];
      for (const event of read.events) {
        const view = storedView(event);
        for (const m of matchers) {
          if (compareStreamIds(event.id, m.webhook.config.from_event) <= 0) continue;
          if (!m.filter.matches(view) || !m.permits(view)) continue;
          const { config } = m.webhook;
          const deliveryId = deliveryIdFor(config.id, event.id);
          const member = queuedMember(config.id, event.id, deliveryId);
          const envelope = webhookEnvelope(config.face, event.json);
          jobs.push({
            tenant,
            face: config.face,
            webhookId: config.id,
            deliveryId,
            streamId: event.id,
            type: envelope.type,
            body: envelope.body,
            queued: member,
            redeliveryOf: null,
          });
          queued.push(member);
        }
      }
      await this.deps.queue.enqueue(jobs);
      const last = (read.events[read.events.length - 1] as { id: string }).id;
      if (!(await store.advance(tenant, this.owner, last, queued))) return;
      cursor = last;
      if (read.events.length < this.settings.pageSize) return;
    }
    this.again = true;
  }

  private async matchers(tenant: Tenant, webhooks: StoredWebhook[]): Promise<Matcher[]> {
    const principals = new Map<string, Promise<EngramPrincipal | undefined>>();
    const out: Matcher[] = [];
    for (const webhook of webhooks) {
      const { config } = webhook;
      const filter = new Filter({
        types: config.events,
        ...(config.user_id !== null ? { user_id: config.user_id } : {}),
        ...(config.agent_id !== null ? { agent_id: config.agent_id } : {}),
      });
      if (config.face === 'layer') {
        out.push({ webhook, filter, permits: () => true });
        continue;
      }
      const key = config.owner.type === 'admin' ? 'admin' : `user:${config.owner.id}`;
      if (!principals.has(key))
        principals.set(key, this.deps.ownerPrincipal(tenantName(tenant), config.owner));
      const principal = await principals.get(key);
      // An owner who may read nothing any more (removed, deactivated, no longer admin) receives nothing.
      out.push({
        webhook,
        filter,
        permits: principal ? (event) => engramEventPermitted(principal, event) : () => false,
      });
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    // Let a running round finish its page (its jobs exist only once the cursor moved), then hand over.
    await Promise.race([this.round, sleep(5000, undefined, { ref: false })]);
    for (const tenant of this.watched) {
      await this.deps.pubsub.unsubscribe(this.deps.events.channel(tenant), this.wake).catch(() => undefined);
      await this.deps.store.releaseLease(tenant, this.owner).catch(() => undefined);
    }
  }
}
