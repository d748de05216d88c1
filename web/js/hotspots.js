// Hotspots — the consultation hotspots of one scene and the live state of the proposals they link to.
// Data only (no DOM, no three.js): the markers, the mirror list, the panel and the editor listen to it.
//
// Sources: `GET /api/scenes/{id}/hotspots` at start, then the room's `hotspot` events (upsert | delete),
// and the editor's own writes (applied at once, the echo from the room is then a no-op). Proposals:
// `GET /api/proposals/live?ref=` on first need, then `proposal` and `proposal_supports` events keep them
// current. Events may have been missed after a reconnect, or when the server says `resync` (a server
// process lost the bus for a while): then `catchUp` re-reads the hotspots and every shown proposal.
// Invariants: a hotspot event older than what we hold (lower `version`) never overwrites it, so events
// and HTTP answers may arrive in any order; a deleted hotspot's version is remembered, so a late upsert
// cannot resurrect it; listeners get ('change', {action: 'upsert'|'delete', hotspot, previous}),
// ('reset') after a full load, and ('proposal', proposal) when a proposal's shown state changed.
// The anonymous support token is random, kept in this browser only, and identifies nothing else.

import { ApiError, api } from './api.js';
import { Emitter } from './emitter.js';

export const KINDS = ['proposal', 'information', 'event'];
export const HOTSPOT_LANGUAGES = ['en', 'fr', 'nl', 'es'];
const TOKEN_KEY = 'civicSpace.supportToken';
const SUPPORTED_KEY = 'civicSpace.supported';
// After a `resync`, every resident of a room would ask at once: each waits a random part of this first.
const RESYNC_SPREAD_MS = 3000;

export class Hotspots extends Emitter {
  /** @param {{sceneId: string, storage?: Storage|null, resyncSpreadMs?: number}} options */
  constructor({ sceneId, storage = safeStorage(), resyncSpreadMs = RESYNC_SPREAD_MS }) {
    super();
    this.sceneId = sceneId;
    this.storage = storage;
    this.resyncSpreadMs = resyncSpreadMs;
    this.catching = null; // the catch-up waiting to start, which later resyncs join
    this.items = new Map(); // id -> hotspot (live ones only)
    this.versions = new Map(); // id -> newest version seen, deleted ones included
    this.proposals = new Map(); // ref -> proposal (resolve shape)
    this.pending = new Map(); // ref -> Promise of a resolve in flight
    this.loaded = false;
  }

  /**
   * Subscribes to a Presence connection: the content events this module consumes (Presence hands them over
   * by type, as they came), and a catch-up after each reconnect and each `resync` from the server.
   */
  attach(connection) {
    connection.on('hotspot', (message) => this.applyEvent(message));
    connection.on('proposal', (message) => this.applyProposal(message.proposal));
    connection.on('proposal_supports', (message) => this.applySupports(message.ref, message.supports));
    connection.on('resync', () => this.catchUp());
    let welcomed = false;
    connection.on('welcome', () => {
      if (welcomed) this.catchUp({ spreadMs: 0 }); // back after a drop: catch up on what we missed
      welcomed = true;
    });
  }

  /**
   * Re-reads what may be stale (live events were missed): the scene's hotspots, then the live state of each
   * proposal a hotspot shows. Starts after a random wait under `spreadMs`; calls made while one waits join
   * it. Never rejects: on failure we keep what we hold until the next event or catch-up.
   */
  catchUp({ spreadMs = this.resyncSpreadMs } = {}) {
    if (this.catching) return this.catching;
    const wait = new Promise((resolve) => setTimeout(resolve, spreadMs > 0 ? Math.random() * spreadMs : 0));
    this.catching = wait.then(async () => {
      this.catching = null; // a resync from now on may stand for changes this re-read would miss
      try {
        await this.load();
      } catch {
        return; // the server is away: the reconnect's catch-up follows
      }
      await this.refreshProposals();
    });
    return this.catching;
  }

  /** Asks again for each cached proposal a hotspot shows; emits ('proposal', p) for those that changed. */
  async refreshProposals() {
    const shown = [...this.proposals.keys()].filter((ref) => this.isShown(ref));
    await Promise.all(shown.map(async (ref) => {
      const before = this.proposals.get(ref);
      try {
        const fresh = await this.proposal(ref, { fresh: true });
        if (JSON.stringify(fresh) !== JSON.stringify(before)) this.emit('proposal', fresh);
      } catch {
        // keep what we hold: the next event or catch-up tries again
      }
    }));
  }

  /** Fetches the scene's hotspots; replaces what we hold. */
  async load() {
    const { hotspots } = await api.hotspots(this.sceneId);
    const fresh = new Map();
    for (const hotspot of Array.isArray(hotspots) ? hotspots : []) {
      if (!valid(hotspot)) continue;
      const seen = this.versions.get(hotspot.id);
      // An event newer than this answer may already be here: keep the newer of the two.
      if (keepsHeld(seen, hotspot.version)) {
        if (this.items.has(hotspot.id)) fresh.set(hotspot.id, this.items.get(hotspot.id));
        continue;
      }
      this.versions.set(hotspot.id, hotspot.version);
      fresh.set(hotspot.id, hotspot);
    }
    this.items = fresh;
    this.loaded = true;
    this.emit('reset', this.list());
    return this.list();
  }

  /** The live hotspots, oldest first. */
  list() {
    return [...this.items.values()].sort((a, b) => a.id - b.id);
  }

  get(id) {
    return this.items.get(Number(id)) || null;
  }

  /** A room event {action, hotspot}, or an editor's own write (same shape). Returns true if applied. */
  applyEvent({ action, hotspot }) {
    if (!valid(hotspot) || (hotspot.scene && hotspot.scene !== this.sceneId)) return false;
    const previous = this.items.get(hotspot.id) || null;
    if (!shouldApply(this.versions.get(hotspot.id), Boolean(previous), action, hotspot.version)) return false;
    this.versions.set(hotspot.id, hotspot.version);
    if (action === 'delete') {
      if (!previous) return false;
      this.items.delete(hotspot.id);
      this.emit('change', { action: 'delete', hotspot, previous });
    } else {
      this.items.set(hotspot.id, hotspot);
      this.emit('change', { action: 'upsert', hotspot, previous });
    }
    return true;
  }

  // --- proposals ---------------------------------------------------------------------------------

  /** The proposal behind `ref` (cached); `fresh` asks the server again. Rejects with an ApiError. */
  proposal(ref, { fresh = false } = {}) {
    if (!fresh && this.proposals.has(ref)) return Promise.resolve(this.proposals.get(ref));
    if (this.pending.has(ref)) return this.pending.get(ref);
    const request = api
      .resolveProposal({ ref })
      .then((proposal) => {
        this.proposals.set(ref, proposal);
        return proposal;
      })
      .finally(() => this.pending.delete(ref));
    this.pending.set(ref, request);
    return request;
  }

  cachedProposal(ref) {
    return this.proposals.get(ref) || null;
  }

  /** A `proposal` event: a local proposal's row or a remote proposal's resolve shape. */
  applyProposal(proposal) {
    if (!proposal || typeof proposal.ref !== 'string') return;
    const known = this.proposals.get(proposal.ref);
    if (!known && !this.isShown(proposal.ref)) return; // nothing here shows it
    const merged = { ...(known || {}) };
    const keys = ['ref', 'source', 'title', 'summary', 'status', 'statusLabel', 'supports', 'comments', 'deadline', 'url',
      'fetchedAt', 'stale', 'machineTranslated', 'machineTranslatedLocales'];
    for (const key of keys) {
      if (key in proposal) merged[key] = proposal[key];
    }
    if (proposal.source === 'local') {
      merged.fetchedAt = Date.now() / 1000;
      merged.stale = false;
    }
    this.proposals.set(proposal.ref, merged);
    this.emit('proposal', merged);
  }

  applySupports(ref, supports) {
    const known = this.proposals.get(ref);
    if (!known || typeof supports !== 'number') return;
    if (known.supports === supports) return;
    this.proposals.set(ref, { ...known, supports });
    this.emit('proposal', this.proposals.get(ref));
  }

  isShown(ref) {
    for (const hotspot of this.items.values()) if (hotspot.proposalRef === ref) return true;
    return false;
  }

  // --- supporting a local proposal ---------------------------------------------------------------

  /** True when this browser already supported `ref` (as far as this browser remembers). */
  hasSupported(ref) {
    return this.supportedRefs().includes(ref);
  }

  /**
   * Supports a local proposal once per browser. Resolves to {supports, counted}; `counted` false means
   * the server already had this browser's support.
   */
  async support(ref) {
    const match = /^local:(\d+)$/.exec(ref);
    if (!match) throw new ApiError('not_local', 'Only proposals made here can be supported here.');
    const { body } = await api.support(match[1], this.token());
    const refs = this.supportedRefs();
    if (!refs.includes(ref)) this.remember(SUPPORTED_KEY, JSON.stringify([...refs, ref].slice(-500)));
    this.applySupports(ref, body.supports);
    return { supports: body.supports, counted: Boolean(body.counted) };
  }

  /** The anonymous token of this browser (created on first support). */
  token() {
    if (this.memoryToken) return this.memoryToken;
    let token = null;
    try {
      token = this.storage?.getItem(TOKEN_KEY);
    } catch {
      token = null;
    }
    if (!token || !/^[A-Za-z0-9_-]{16,64}$/.test(token)) {
      const bytes = crypto.getRandomValues(new Uint8Array(24));
      token = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      this.remember(TOKEN_KEY, token);
    }
    this.memoryToken = token;
    return token;
  }

  supportedRefs() {
    try {
      const refs = JSON.parse(this.storage?.getItem(SUPPORTED_KEY) || '[]');
      return Array.isArray(refs) ? refs.filter((r) => typeof r === 'string') : [];
    } catch {
      return [];
    }
  }

  remember(key, value) {
    try {
      this.storage?.setItem(key, value);
    } catch {
      // private mode: this visit only
    }
  }
}

/**
 * The version rule, pure: should a hotspot event (`action` 'upsert' | 'delete' at `version`) be applied,
 * given the newest version seen for that id (`seen`, undefined if none; deleted ones included) and whether a
 * live copy is held (`live`)? Never when older than what we hold; not when it is the same version and would
 * change nothing (our own write's echo, or a repeated event).
 */
export function shouldApply(seen, live, action, version) {
  if (seen !== undefined && version < seen) return false;
  if (seen === version && (action === 'delete') === !live) return false;
  return true;
}

/** When a full load meets an event already applied: keep what we hold if its version is newer. */
export function keepsHeld(seen, loadedVersion) {
  return seen !== undefined && seen > loadedVersion;
}

function valid(hotspot) {
  return (
    hotspot &&
    Number.isInteger(hotspot.id) &&
    Number.isInteger(hotspot.version) &&
    Array.isArray(hotspot.position) &&
    hotspot.position.length === 3 &&
    hotspot.position.every(Number.isFinite)
  );
}

/**
 * Where a resident should stand to read a hotspot: about `distance` metres in front of it along its
 * normal (horizontal part), on walkable floor when a WalkGrid is given, facing it.
 * Returns {position: [x, y, z] (feet), yaw, pitch (degrees)}. `from` ([x, y, z]) is used when the
 * normal points up or down (a hotspot on a desk): stand on the side the resident comes from.
 */
export function standingSpot(hotspot, grid = null, { from = null, distance = 2, eyeHeight = 1.6, maxStep = 0.35 } = {}) {
  const [px, py, pz] = hotspot.position;
  let [nx, , nz] = hotspot.normal || [0, 0, 1];
  let length = Math.hypot(nx, nz);
  if (length < 0.2 && from) {
    nx = from[0] - px;
    nz = from[2] - pz;
    length = Math.hypot(nx, nz);
  }
  if (length < 1e-6) {
    nx = 0;
    nz = 1;
    length = 1;
  }
  nx /= length;
  nz /= length;
  const want = [px + nx * distance, pz + nz * distance];
  let spot = null;
  if (grid) {
    // The nearest cell to the wanted spot with a floor a person could stand on below the hotspot, with
    // room around it, not further than the hotspot itself from the wanted spot's side.
    const cell = grid.cell;
    let best = Infinity;
    for (let ring = 0; ring <= 12 && !spot; ring++) {
      for (let i = -ring; i <= ring; i++) {
        for (let j = -ring; j <= ring; j++) {
          if (Math.max(Math.abs(i), Math.abs(j)) !== ring) continue;
          const x = want[0] + i * cell;
          const z = want[1] + j * cell;
          // Stay on the hotspot's side of its surface.
          if ((x - px) * nx + (z - pz) * nz < 0.5) continue;
          for (const floor of grid.floorsAt(x, z)) {
            if (floor > py + 0.3 || floor < py - 3.5) continue;
            const roomy = [[0.3, 0], [-0.3, 0], [0, 0.3], [0, -0.3]].every(([dx, dz]) =>
              grid.floorsAt(x + dx, z + dz).some((f) => Math.abs(f - floor) <= maxStep / 2),
            );
            if (!roomy) continue;
            const score = Math.hypot(x - want[0], z - want[1]) + Math.abs(py - 1.2 - floor) * 0.3;
            if (score < best) {
              best = score;
              spot = [x, floor, z];
            }
          }
        }
      }
    }
  }
  if (!spot) spot = [want[0], Math.max(0, py - 1.5), want[1]];
  const dx = px - spot[0];
  const dz = pz - spot[2];
  const yaw = Math.atan2(-dx, -dz) * (180 / Math.PI);
  const pitch = Math.atan2(py - (spot[1] + eyeHeight), Math.hypot(dx, dz)) * (180 / Math.PI);
  return { position: spot, yaw, pitch: Math.max(-60, Math.min(60, pitch)) };
}

function safeStorage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
